{#- Channel efficiency over the four latest complete fiscal quarters (docs/metrics.md, "Channel
    efficiency"): the quarters of marts.channel_efficiency that end on or before
    as_of_date, the latest four (and any between them), summed per channel, every cost
    and return recomputed from the sums. A channel whose summed spend is not above 0
    (judged rounded to 6 decimals, a millionth of the currency unit) has no costs and no
    return. -#}

with channel_efficiency as (
    select * from {{ ref('channel_efficiency') }}
),

complete_quarters as (
    select distinct fiscal_quarter_start
    from channel_efficiency
    where cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'fiscal_quarter_start')) }} as date)
        <= {{ as_of_date() }}
    order by fiscal_quarter_start desc
    limit 4
),

trailing_window as (
    select
        min(fiscal_quarter_start) as first_quarter_start,
        max(fiscal_quarter_start) as last_quarter_start,
        count(*) as quarters
    from complete_quarters
),

channels as (
    select
        channel_efficiency.channel,
        {{ exact_sum('channel_efficiency.spend') }} as spend,
        sum(channel_efficiency.leads) as leads,
        sum(channel_efficiency.mqls) as mqls,
        sum(channel_efficiency.opportunities) as opportunities,
        sum(channel_efficiency.won) as won,
        {{ exact_sum('channel_efficiency.won_amount') }} as won_amount
    from channel_efficiency
    inner join trailing_window
        on channel_efficiency.fiscal_quarter_start between trailing_window.first_quarter_start
            and trailing_window.last_quarter_start
    group by channel_efficiency.channel
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
        cast(trailing_window.first_quarter_start as date) as first_quarter_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'trailing_window.last_quarter_start')) }} as date)
            as last_quarter_end,
        -- counts
        cast(trailing_window.quarters as bigint) as quarters,
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
