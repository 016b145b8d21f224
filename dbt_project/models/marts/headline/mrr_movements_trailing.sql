{#- MRR movements over the twelve latest months of marts.mrr_movements (docs/metrics.md, "MRR
    movements"), as one bridge: the starting MRR of the first of those months, each
    movement summed, and the ending MRR of the latest month (starting + movements =
    ending). No row while mrr_movements is empty. -#}

with mrr as (
    select * from {{ ref('mrr_movements') }}
),

trailing_window as (
    {{ trailing_window('mrr', 'month', 12) }}
),

latest_months as (
    {{ rows_in_window('mrr', 'month') }}
),

bridged as (
    select
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months,
        {{ value_at_min('starting_mrr', 'month') }} as starting_mrr,
        {{ exact_sum('new_mrr') }} as new_mrr,
        {{ exact_sum('reactivation_mrr') }} as reactivation_mrr,
        {{ exact_sum('expansion_mrr') }} as expansion_mrr,
        {{ exact_sum('contraction_mrr') }} as contraction_mrr,
        {{ exact_sum('churned_mrr') }} as churned_mrr,
        {{ value_at_max('ending_mrr', 'month') }} as ending_mrr
    from latest_months
    having count(*) > 0
),

final as (
    select
        -- dates
        cast(first_month as date) as first_month,
        cast(last_month as date) as last_month,
        -- counts
        cast(months as bigint) as months,
        -- amounts
        cast(starting_mrr as double) as starting_mrr,
        cast(new_mrr as double) as new_mrr,
        cast(reactivation_mrr as double) as reactivation_mrr,
        cast(expansion_mrr as double) as expansion_mrr,
        cast(contraction_mrr as double) as contraction_mrr,
        cast(churned_mrr as double) as churned_mrr,
        cast(ending_mrr as double) as ending_mrr
    from bridged
)

select * from final
