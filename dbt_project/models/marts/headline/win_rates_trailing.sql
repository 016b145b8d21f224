{#- Win rates by segment over the trailing twelve close months (docs/metrics.md, "Win rates"):
    the twelve latest close months of marts.win_rates (and any month between them),
    summed over opportunity types; the median sales cycle over the won opportunities of
    marts.fct_opportunities closed in the same months. -#}

with win_rates as (
    select * from {{ ref('win_rates') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

latest_months as (
    select distinct close_month
    from win_rates
    order by close_month desc
    limit 12
),

trailing_window as (
    select
        min(close_month) as first_close_month,
        max(close_month) as last_close_month
    from latest_months
),

segments as (
    select
        win_rates.segment,
        sum(win_rates.won) as won,
        sum(win_rates.lost) as lost,
        {{ exact_sum('win_rates.won_amount') }} as won_amount
    from win_rates
    inner join trailing_window
        on win_rates.close_month between trailing_window.first_close_month
            and trailing_window.last_close_month
    group by win_rates.segment
),

sales_cycles as (
    select
        opportunities.segment,
        {{ median('opportunities.sales_cycle_days') }} as median_sales_cycle_days
    from opportunities
    inner join trailing_window
        on opportunities.close_month between trailing_window.first_close_month
            and trailing_window.last_close_month
    where opportunities.is_won
    group by opportunities.segment
),

final as (
    select
        -- ids
        segments.segment,
        -- dates
        cast(trailing_window.first_close_month as date) as first_close_month,
        cast(trailing_window.last_close_month as date) as last_close_month,
        -- counts
        cast(segments.won as bigint) as won,
        cast(segments.lost as bigint) as lost,
        -- amounts
        cast(segments.won_amount as double) as won_amount,
        case when segments.won > 0 then segments.won_amount / segments.won end as avg_won_amount,
        -- rates
        case when segments.won + segments.lost > 0
            then cast(segments.won as double) / (segments.won + segments.lost) end as win_rate,
        -- durations
        cast(sales_cycles.median_sales_cycle_days as double) as median_sales_cycle_days
    from segments
    cross join trailing_window
    left join sales_cycles
        on sales_cycles.segment = segments.segment
)

select * from final
