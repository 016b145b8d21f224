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
    select first_cohort_month as first_period, last_cohort_month as last_period
    from {{ ref('lead_funnel_trailing') }}
    where channel = '(all channels)' and first_cohort_month is not null
),

fallback_window as (
    {{ trailing_window('opportunity_funnel', 'cohort_month', 12,
                       where=dbt.last_day('cohort_month', 'month') ~ ' <= ' ~ dbt.dateadd('day', -90, as_of_date())) }}
),

trailing_window as (
    select first_period, last_period from lead_window
    union all
    select first_period, last_period from fallback_window
    where period_count > 0 and not exists (select 1 from lead_window)
),

in_window as (
    {{ rows_in_window('opportunity_funnel', 'cohort_month') }}
),

stages as (
    select
        coalesce(opportunity_type, '(all types)') as opportunity_type,
        stage_order,
        min(stage) as stage,
        sum(entered) as entered,
        sum(advanced) as advanced,
        sum(won) as won,
        sum(lost) as lost,
        sum(open) as open,
        {{ median('median_days_to_next') }} as typical_days_to_next
    from in_window
    group by grouping sets ((opportunity_type, stage_order), (stage_order))
),

final as (
    select
        -- ids
        stages.opportunity_type,
        cast(stages.stage_order as bigint) as stage_order,
        stages.stage,
        -- dates
        cast(trailing_window.first_period as date) as first_cohort_month,
        cast(trailing_window.last_period as date) as last_cohort_month,
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
