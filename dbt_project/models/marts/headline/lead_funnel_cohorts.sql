{#- The lead funnel per cohort month, every channel and segment together (docs/metrics.md,
    "Lead funnel"): leads, won and lead_to_won_rate = won / leads of each cohort month of
    marts.lead_funnel, with its maturity. -#}

with lead_funnel as (
    select * from {{ ref('lead_funnel') }}
),

cohorts as (
    select
        cohort_month,
        sum(leads) as leads,
        sum(won) as won,
        bool_and(is_mature) as is_mature
    from lead_funnel
    group by cohort_month
),

final as (
    select
        -- ids
        cast(cohort_month as date) as cohort_month,
        -- counts
        cast(leads as bigint) as leads,
        cast(won as bigint) as won,
        -- rates
        case when leads > 0 then cast(won as double) / leads end as lead_to_won_rate,
        -- flags
        is_mature
    from cohorts
)

select * from final
