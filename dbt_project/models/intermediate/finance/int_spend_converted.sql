{#- Spend on or before as_of_date, one row per spend entry, with its channel and its
    amount in the reporting currency (latest rate on or before spend_date).
    channel: the spend's own channel, else its campaign's channel, else
    '(unattributed)' (an unknown campaign_id counts as absent). -#}
with spend as (
    select *
    from {{ ref('stg_finance__spend') }}
    where spend_date <= {{ as_of_date() }}
),

campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_crm__campaigns') }}
),

attributed as (
    select
        -- ids
        spend.spend_id,
        spend.campaign_id,
        -- attributes
        spend.department,
        spend.category,
        coalesce(spend.channel, campaigns.channel, '(unattributed)') as channel,
        case
            when spend.channel is not null then 'spend'
            when campaigns.channel is not null then 'campaign'
            else 'none'
        end as channel_source,
        -- amounts
        spend.amount,
        spend.currency,
        -- dates
        spend.spend_date,
        {{ month_start('spend.spend_date') }} as month
    from spend
    left join campaigns
        on spend.campaign_id = campaigns.campaign_id
),

rates as (
    {{ fx_rates_for('attributed', 'currency', 'spend_date') }}
),

converted as (
    select
        attributed.*,
        rates.rate_to_reporting,
        attributed.amount * rates.rate_to_reporting as amount_reporting
    from attributed
    left join rates
        on rates.currency = attributed.currency
        and rates.rate_date = attributed.spend_date
)

select * from converted
