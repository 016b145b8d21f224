{#- Opportunity stage conversion over a trailing window of cohorts (docs/metrics.md,
    "Opportunity stage funnel"): the same mature cohort months as
    marts.lead_funnel_trailing; while no lead cohort is mature, the twelve latest cohort
    months that ended at least 90 days before as_of_date. Per stage, summed over segments,
    for each opportunity type and for all types together (`(all types)`);
    conversion_rate = advanced / entered, and the typical days to the next stage is the
    median of the cohort groups' medians. -#}

with opportunity_funnel as (
    select * from {{ ref('opportunity_funnel') }}
),

lead_window as (
    select first_cohort_month, last_cohort_month
    from {{ ref('lead_funnel_trailing') }}
    where channel = '(all channels)' and first_cohort_month is not null
),

old_enough_months as (
    select distinct cohort_month
    from opportunity_funnel
    where {{ dbt.last_day('cohort_month', 'month') }} <= {{ dbt.dateadd('day', -90, as_of_date()) }}
    order by cohort_month desc
    limit 12
),

fallback_window as (
    select
        min(cohort_month) as first_cohort_month,
        max(cohort_month) as last_cohort_month
    from old_enough_months
    having count(*) > 0
),

trailing_window as (
    select * from lead_window
    union all
    select * from fallback_window
    where not exists (select 1 from lead_window)
),

stages as (
    select
        coalesce(opportunity_funnel.opportunity_type, '(all types)') as opportunity_type,
        opportunity_funnel.stage_order,
        min(opportunity_funnel.stage) as stage,
        sum(opportunity_funnel.entered) as entered,
        sum(opportunity_funnel.advanced) as advanced,
        sum(opportunity_funnel.won) as won,
        sum(opportunity_funnel.lost) as lost,
        sum(opportunity_funnel.open) as open,
        {{ median('opportunity_funnel.median_days_to_next') }} as typical_days_to_next
    from opportunity_funnel
    inner join trailing_window
        on opportunity_funnel.cohort_month between trailing_window.first_cohort_month
            and trailing_window.last_cohort_month
    group by grouping sets (
        (opportunity_funnel.opportunity_type, opportunity_funnel.stage_order),
        (opportunity_funnel.stage_order)
    )
),

final as (
    select
        -- ids
        stages.opportunity_type,
        cast(stages.stage_order as bigint) as stage_order,
        stages.stage,
        -- dates
        cast(trailing_window.first_cohort_month as date) as first_cohort_month,
        cast(trailing_window.last_cohort_month as date) as last_cohort_month,
        -- counts
        cast(stages.entered as bigint) as entered,
        cast(stages.advanced as bigint) as advanced,
        cast(stages.won as bigint) as won,
        cast(stages.lost as bigint) as lost,
        cast(stages.open as bigint) as open,
        -- rates
        case when stages.entered > 0 then cast(stages.advanced as double) / stages.entered end
            as conversion_rate,
        -- durations
        cast(stages.typical_days_to_next as double) as typical_days_to_next
    from stages
    cross join trailing_window
)

select * from final
