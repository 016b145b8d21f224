{#- The monthly waterfall of the whole open pipeline: marts.pipeline_movements summed over
    segments and opportunity types (docs/metrics.md, "Pipeline history"), with
    is_complete for the months whose E is their last day (every month before
    as_of_date's, and that one when as_of_date is its last day). -#}
with movements as (
    select * from {{ ref('pipeline_movements') }}
),

final as (
    select
        -- keys
        month,
        min(starting_date) as starting_date,
        min(ending_date) as ending_date,
        min(ending_date) = cast({{ dbt.last_day('month', 'month') }} as date) as is_complete,
        -- amounts
        {{ exact_sum('starting_amount') }} as starting_amount,
        {{ exact_sum('fx_revaluation') }} as fx_revaluation,
        {{ exact_sum('added_amount') }} as added_amount,
        {{ exact_sum('increased_amount') }} as increased_amount,
        {{ exact_sum('decreased_amount') }} as decreased_amount,
        {{ exact_sum('won_amount') }} as won_amount,
        {{ exact_sum('lost_amount') }} as lost_amount,
        {{ exact_sum('ending_amount') }} as ending_amount,
        {{ exact_sum('slipped_amount') }} as slipped_amount,
        -- counts
        cast(sum(starting_opportunities) as bigint) as starting_opportunities,
        cast(sum(added_opportunities) as bigint) as added_opportunities,
        cast(sum(won_opportunities) as bigint) as won_opportunities,
        cast(sum(lost_opportunities) as bigint) as lost_opportunities,
        cast(sum(ending_opportunities) as bigint) as ending_opportunities,
        cast(sum(slipped_opportunities) as bigint) as slipped_opportunities
    from movements
    group by month
)

select * from final
