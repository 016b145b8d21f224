{#- The open pipeline on every snapshot date (docs/metrics.md, "Pipeline history"), by
    segment, opportunity type and funnel stage; a row only where something is open. -#}
with states as (
    select * from {{ ref('int_opportunity_snapshot_states') }}
    where is_open
),

final as (
    select
        snapshot_date,
        segment,
        opportunity_type,
        funnel_stage,
        min(stage_order) as stage_order,
        count(*) as open_opportunities,
        {{ exact_sum('amount_reporting') }} as open_amount,
        count(case when close_date < snapshot_date then 1 end) as overdue_opportunities,
        {{ exact_sum('case when close_date < snapshot_date then amount_reporting else 0 end') }} as overdue_amount
    from states
    group by snapshot_date, segment, opportunity_type, funnel_stage
)

select * from final
