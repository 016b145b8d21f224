{#- One row per (currency, valid_from): the rate that applies to amounts dated from
    valid_from up to (not including) valid_until, i.e. the latest rate on or before
    an amount's date. The reporting currency converts at 1 on every date and needs
    no rate; rows for it in fx_rates are ignored. Used through the fx_rate_join macro. -#}
with rates as (
    select
        currency,
        rate_date,
        rate_to_reporting
    from {{ ref('stg_finance__fx_rates') }}
    where currency <> {{ reporting_currency() }}
),

ranged as (
    select
        currency,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_until,
        rate_to_reporting
    from rates
),

reporting_currency as (
    select
        {{ reporting_currency() }} as currency,
        cast('0001-01-01' as date) as valid_from,
        cast(null as date) as valid_until,
        cast(1 as double) as rate_to_reporting
),

unioned as (
    select * from ranged
    union all
    select * from reporting_currency
)

select * from unioned
