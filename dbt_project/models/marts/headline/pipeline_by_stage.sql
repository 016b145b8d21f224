{#- The open pipeline on every snapshot date by funnel stage: marts.pipeline_snapshots
    summed over segments and opportunity types (docs/metrics.md, "Pipeline history"). -#}
with snapshots as (
    select * from {{ ref('pipeline_snapshots') }}
),

final as (
    select
        snapshot_date,
        funnel_stage,
        min(stage_order) as stage_order,
        cast(sum(open_opportunities) as bigint) as open_opportunities,
        {{ exact_sum('open_amount') }} as open_amount,
        cast(sum(overdue_opportunities) as bigint) as overdue_opportunities,
        {{ exact_sum('overdue_amount') }} as overdue_amount
    from snapshots
    group by snapshot_date, funnel_stage
)

select * from final
