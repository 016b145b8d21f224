{#- Channel efficiency over the four latest complete fiscal quarters (docs/metrics.md, "Channel
    efficiency"): the quarters of marts.channel_efficiency that end on or before
    as_of_date, the latest four (and any between them), summed per channel, every cost
    and return recomputed from the sums. A channel whose summed spend is not above 0
    (judged rounded to 6 decimals, a millionth of the currency unit) has no costs and no
    return. -#}

with channel_efficiency as (
    select * from {{ ref('channel_efficiency') }}
),

trailing_window as (
    {{ trailing_window('channel_efficiency', 'fiscal_quarter_start', 4,
                       where=period_end('fiscal_quarter_start', 3) ~ ' <= ' ~ as_of_date()) }}
),

in_window as (
    {{ rows_in_window('channel_efficiency', 'fiscal_quarter_start') }}
),

channels as (
    select
        channel,
        {{ exact_sum('spend') }} as spend,
        sum(leads) as leads,
        sum(mqls) as mqls,
        sum(opportunities) as opportunities,
        sum(won) as won,
        {{ exact_sum('won_amount') }} as won_amount
    from in_window
    group by channel
),

with_spend as (
    select
        *,
        case when round(spend, 6) > 0 then spend end as positive_spend
    from channels
),

final as (
    select
        -- ids
        with_spend.channel,
        -- dates
        cast(trailing_window.first_period as date) as first_quarter_start,
        {{ period_end('trailing_window.last_period', 3) }} as last_quarter_end,
        -- counts
        cast(trailing_window.period_count as bigint) as quarters,
        cast(with_spend.leads as bigint) as leads,
        cast(with_spend.mqls as bigint) as mqls,
        cast(with_spend.opportunities as bigint) as opportunities,
        cast(with_spend.won as bigint) as won,
        -- amounts
        cast(with_spend.spend as double) as spend,
        cast(with_spend.won_amount as double) as won_amount,
        case when with_spend.leads > 0 then with_spend.positive_spend / with_spend.leads end as cost_per_lead,
        case when with_spend.opportunities > 0 then with_spend.positive_spend / with_spend.opportunities end
            as cost_per_opportunity,
        case when with_spend.won > 0 then with_spend.positive_spend / with_spend.won end as cost_per_win,
        -- rates
        coalesce(with_spend.won_amount, 0) / with_spend.positive_spend as return_on_spend
    from with_spend
    cross join trailing_window
)

select * from final
