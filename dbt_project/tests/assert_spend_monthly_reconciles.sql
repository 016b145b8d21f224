{#- fct_spend_monthly must add up to the spend rows themselves: the sum of every spend
    amount dated on or before as_of_date, converted at the rate of its spend_date.
    Returns a row when the totals differ by more than a cent (or one part in 10^9). -#}
{{ config(store_failures=store_failures_in_build()) }}

with spend as (
    select *
    from {{ ref('stg_finance__spend') }}
    where spend_date <= {{ as_of_date() }}
),

rates as (
    {{ fx_rates_for('spend', 'currency', 'spend_date') }}
),

expected as (
    select sum(spend.amount * rates.rate_to_reporting) as spend
    from spend
    left join rates
        on rates.currency = spend.currency
        and rates.rate_date = spend.spend_date
),

published as (
    select sum(spend) as spend
    from {{ ref('fct_spend_monthly') }}
),

compared as (
    select
        coalesce(expected.spend, 0) as expected_spend,
        coalesce(published.spend, 0) as published_spend
    from expected
    cross join published
)

select *
from compared
where abs(expected_spend - published_spend)
    > case when abs(expected_spend) * 1e-9 > 0.01 then abs(expected_spend) * 1e-9 else 0.01 end
