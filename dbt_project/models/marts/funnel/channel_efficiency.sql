{#- Spend and what it returns per (fiscal_quarter_start, channel): see docs/metrics.md
    "Channel efficiency". A row for every quarter and channel with spend rows or
    leads; the missing side is 0. Cost figures and return_on_spend are null when
    spend <= 0, a cost figure also when its count is 0. -#}
with spend as (
    -- spend on or before as_of_date with its channel and reporting-currency amount
    select * from {{ ref('int_spend_converted') }}
),

leads as (
    select * from {{ ref('int_leads_staged') }}
),

spend_by_quarter as (
    select
        {{ fiscal_quarter_start('spend_date') }} as fiscal_quarter_start,
        channel,
        {{ exact_sum('amount_reporting') }} as spend
    from spend
    group by {{ fiscal_quarter_start('spend_date') }}, channel
),

leads_by_quarter as (
    select
        {{ fiscal_quarter_start('created_date') }} as fiscal_quarter_start,
        channel,
        count(*) as leads,
        count(case when is_mql then 1 end) as mqls,
        count(case when is_opportunity then 1 end) as opportunities,
        count(case when is_won then 1 end) as won,
        {{ exact_sum('won_amount') }} as won_amount
    from leads
    group by {{ fiscal_quarter_start('created_date') }}, channel
),

quarter_channels as (
    select fiscal_quarter_start, channel from spend_by_quarter
    union
    select fiscal_quarter_start, channel from leads_by_quarter
),

joined as (
    select
        quarter_channels.fiscal_quarter_start,
        quarter_channels.channel,
        coalesce(spend_by_quarter.spend, 0) as spend,
        coalesce(leads_by_quarter.leads, 0) as leads,
        coalesce(leads_by_quarter.mqls, 0) as mqls,
        coalesce(leads_by_quarter.opportunities, 0) as opportunities,
        coalesce(leads_by_quarter.won, 0) as won,
        coalesce(leads_by_quarter.won_amount, 0) as won_amount
    from quarter_channels
    left join spend_by_quarter
        on spend_by_quarter.fiscal_quarter_start = quarter_channels.fiscal_quarter_start
        and spend_by_quarter.channel = quarter_channels.channel
    left join leads_by_quarter
        on leads_by_quarter.fiscal_quarter_start = quarter_channels.fiscal_quarter_start
        and leads_by_quarter.channel = quarter_channels.channel
),

final as (
    select
        -- grain
        fiscal_quarter_start,
        channel,
        -- amounts and counts
        spend,
        leads,
        mqls,
        opportunities,
        won,
        won_amount,
        -- cost figures: null when spend <= 0 or the count is 0
        case when spend > 0 and leads > 0 then spend / leads end as cost_per_lead,
        case when spend > 0 and opportunities > 0 then spend / opportunities end as cost_per_opportunity,
        case when spend > 0 and won > 0 then spend / won end as cost_per_win,
        -- rates
        case when spend > 0 then won_amount / spend end as return_on_spend,
        1 - cast(opportunities as double) / nullif(leads, 0) as leakage_rate
    from joined
)

select * from final
