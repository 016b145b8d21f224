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

trailing_window as (
    {{ trailing_window('win_rates', 'close_month', 12) }}
),

win_rates_in_window as (
    {{ rows_in_window('win_rates', 'close_month') }}
),

opportunities_in_window as (
    {{ rows_in_window('opportunities', 'close_month') }}
),

segments as (
    select
        segment,
        sum(won) as won,
        sum(lost) as lost,
        {{ exact_sum('won_amount') }} as won_amount
    from win_rates_in_window
    group by segment
),

sales_cycles as (
    select
        segment,
        {{ median('sales_cycle_days') }} as median_sales_cycle_days
    from opportunities_in_window
    where is_won
    group by segment
),

final as (
    select
        -- ids
        segments.segment,
        -- dates
        cast(trailing_window.first_period as date) as first_close_month,
        cast(trailing_window.last_period as date) as last_close_month,
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
