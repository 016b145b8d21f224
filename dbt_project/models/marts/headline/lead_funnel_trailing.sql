{#- The lead funnel of the trailing twelve mature cohorts (docs/metrics.md, "Lead funnel"):
    the twelve latest cohort months that are mature, summed over all segments, per
    channel and for all channels together (channel `(all channels)`), every rate
    recomputed from the summed counts (null where its denominator is 0). The window
    runs from the first to the last of those months. -#}

with lead_funnel as (
    select * from {{ ref('lead_funnel') }}
),

trailing_window as (
    {{ trailing_window('lead_funnel', 'cohort_month', 12, where='is_mature') }}
),

in_window as (
    {{ rows_in_window('lead_funnel', 'cohort_month') }}
),

summed as (
    select
        coalesce(channel, '(all channels)') as channel,
        sum(leads) as leads,
        sum(mqls) as mqls,
        sum(sqls) as sqls,
        sum(opportunities) as opportunities,
        sum(won) as won,
        {{ exact_sum('won_amount') }} as won_amount
    from in_window
    group by grouping sets ((channel), ())
),

final as (
    select
        -- ids
        channel,
        -- dates
        cast(trailing_window.first_period as date) as first_cohort_month,
        cast(trailing_window.last_period as date) as last_cohort_month,
        -- counts
        cast(trailing_window.period_count as bigint) as cohort_months,
        cast(leads as bigint) as leads,
        cast(mqls as bigint) as mqls,
        cast(sqls as bigint) as sqls,
        cast(opportunities as bigint) as opportunities,
        cast(won as bigint) as won,
        -- amounts
        cast(won_amount as double) as won_amount,
        -- rates
        case when leads > 0 then cast(mqls as double) / leads end as mql_rate,
        case when mqls > 0 then cast(sqls as double) / mqls end as sql_rate,
        case when sqls > 0 then cast(opportunities as double) / sqls end as opportunity_rate,
        case when opportunities > 0 then cast(won as double) / opportunities end as win_rate,
        case when leads > 0 then cast(won as double) / leads end as lead_to_won_rate
    from summed
    cross join trailing_window
)

select * from final
