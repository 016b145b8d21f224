{#- Lead funnel by (cohort_month, channel, segment): see docs/metrics.md "Lead funnel".
    Counts are of leads that reached each stage by as_of_date (monotone: a later
    stage implies the earlier ones); rates are null where their denominator is 0. -#}
with leads as (
    select * from {{ ref('int_leads_staged') }}
),

aggregated as (
    select
        cohort_month,
        channel,
        segment,
        count(*) as leads,
        count(case when is_mql then 1 end) as mqls,
        count(case when is_sql then 1 end) as sqls,
        count(case when is_opportunity then 1 end) as opportunities,
        count(case when is_won then 1 end) as won,
        count(case when is_disqualified then 1 end) as disqualified,
        {{ exact_sum('won_amount') }} as won_amount
    from leads
    group by cohort_month, channel, segment
),

aged as (
    select
        aggregated.*,
        cast({{ dbt.datediff(dbt.last_day('cohort_month', 'month'), as_of_date(), 'day') }} as bigint)
            as cohort_age_days
    from aggregated
),

final as (
    select
        -- grain
        cohort_month,
        channel,
        segment,
        -- counts
        leads,
        mqls,
        sqls,
        opportunities,
        won,
        disqualified,
        -- amounts
        won_amount,
        -- rates
        cast(mqls as double) / nullif(leads, 0) as mql_rate,
        cast(sqls as double) / nullif(mqls, 0) as sql_rate,
        cast(opportunities as double) / nullif(sqls, 0) as opportunity_rate,
        cast(won as double) / nullif(opportunities, 0) as win_rate,
        cast(won as double) / nullif(leads, 0) as lead_to_won_rate,
        -- maturity
        cohort_age_days,
        cohort_age_days >= {{ funnel_maturity_days() }} as is_mature
    from aged
)

select * from final
