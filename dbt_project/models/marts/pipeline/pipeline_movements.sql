{#- The monthly waterfall of the open pipeline (docs/metrics.md, "Pipeline history"), by
    segment and opportunity type of the state on E; the per-opportunity rules are in
    int_opportunity_movements. -#}
with movements as (
    select * from {{ ref('int_opportunity_movements') }}
),

final as (
    select
        -- keys
        month,
        segment,
        opportunity_type,
        -- the compared days
        min(starting_date) as starting_date,
        min(ending_date) as ending_date,
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
        count(case when is_open_start then 1 end) as starting_opportunities,
        count(case when is_added then 1 end) as added_opportunities,
        count(case when is_won then 1 end) as won_opportunities,
        count(case when is_lost then 1 end) as lost_opportunities,
        count(case when is_open_end then 1 end) as ending_opportunities,
        count(case when is_slipped then 1 end) as slipped_opportunities
    from movements
    group by month, segment, opportunity_type
)

select * from final
