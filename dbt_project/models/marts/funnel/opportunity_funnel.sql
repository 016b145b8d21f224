{#- Opportunity stage funnel by (cohort_month, segment, opportunity_type, stage_order):
    see docs/metrics.md "Opportunity stage funnel". Every group with opportunities gets a
    row for every open stage of the stage mapping, even one none entered. An
    opportunity entered every stage up to its highest stage (a won one: all). -#}
with opportunities as (
    select * from {{ ref('int_opportunities_staged') }}
),

funnel_stages as (
    select * from {{ ref('int_funnel_stages_ordered') }}
),

stage_timings as (
    select * from {{ ref('int_opportunity_stages_entered') }}
),

opportunity_groups as (
    select distinct
        cohort_month,
        segment,
        opportunity_type
    from opportunities
),

group_stages as (
    select
        opportunity_groups.cohort_month,
        opportunity_groups.segment,
        opportunity_groups.opportunity_type,
        funnel_stages.stage_order,
        funnel_stages.funnel_stage,
        funnel_stages.next_stage_order,
        funnel_stages.is_last_stage
    from opportunity_groups
    cross join funnel_stages
),

stages_reached as (
    select
        opportunities.opportunity_id,
        opportunities.cohort_month,
        opportunities.segment,
        opportunities.opportunity_type,
        opportunities.outcome,
        funnel_stages.stage_order,
        case
            when funnel_stages.is_last_stage then opportunities.outcome = 'won'
            else opportunities.highest_stage_order >= funnel_stages.next_stage_order
        end as has_advanced
    from opportunities
    inner join funnel_stages
        on funnel_stages.stage_order <= opportunities.highest_stage_order
),

stage_counts as (
    select
        cohort_month,
        segment,
        opportunity_type,
        stage_order,
        count(*) as entered,
        count(case when has_advanced then 1 end) as advanced,
        count(case when outcome = 'won' then 1 end) as won,
        count(case when outcome = 'lost' then 1 end) as lost,
        count(case when outcome = 'open' then 1 end) as open_count
    from stages_reached
    group by cohort_month, segment, opportunity_type, stage_order
),

stage_durations as (
    select
        opportunities.cohort_month,
        opportunities.segment,
        opportunities.opportunity_type,
        stage_timings.stage_order,
        percentile_cont(0.5) within group (order by stage_timings.days_to_next) as median_days_to_next
    from stage_timings
    inner join opportunities
        on opportunities.opportunity_id = stage_timings.opportunity_id
    where stage_timings.days_to_next is not null
    group by
        opportunities.cohort_month,
        opportunities.segment,
        opportunities.opportunity_type,
        stage_timings.stage_order
),

final as (
    select
        -- grain
        group_stages.cohort_month,
        group_stages.segment,
        group_stages.opportunity_type,
        group_stages.funnel_stage as stage,
        group_stages.stage_order,
        -- counts
        coalesce(stage_counts.entered, 0) as entered,
        coalesce(stage_counts.advanced, 0) as advanced,
        -- rates
        cast(stage_counts.advanced as double) / nullif(stage_counts.entered, 0) as conversion_rate,
        -- outcomes of those that entered
        coalesce(stage_counts.won, 0) as won,
        coalesce(stage_counts.lost, 0) as lost,
        coalesce(stage_counts.open_count, 0) as open,
        -- durations
        stage_durations.median_days_to_next
    from group_stages
    left join stage_counts
        on stage_counts.cohort_month = group_stages.cohort_month
        and stage_counts.segment = group_stages.segment
        and stage_counts.opportunity_type = group_stages.opportunity_type
        and stage_counts.stage_order = group_stages.stage_order
    left join stage_durations
        on stage_durations.cohort_month = group_stages.cohort_month
        and stage_durations.segment = group_stages.segment
        and stage_durations.opportunity_type = group_stages.opportunity_type
        and stage_durations.stage_order = group_stages.stage_order
)

select * from final
