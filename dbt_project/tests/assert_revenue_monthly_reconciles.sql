{#- fct_revenue_monthly must add up to the invoice lines themselves: the sum over every
    line invoiced on or before as_of_date of amount x recognized_days / total_days,
    converted at the rate of its invoice_date, computed here straight from staging
    without the month split. Returns a row when the totals differ by more than a cent
    (or one part in 10^9 of the total, for floating-point sums over millions of lines). -#}
{{ config(store_failures=store_failures_in_build()) }}

with lines as (
    select
        invoice_line_id,
        amount,
        currency,
        invoice_date,
        {{ recognition_start() }} as recognition_start,
        {{ recognition_end() }} as recognition_end
    from {{ ref('stg_billing__invoice_lines') }}
    where invoice_date <= {{ as_of_date() }}
),

line_days as (
    select
        *,
        {{ dbt.datediff('recognition_start', 'recognition_end', 'day') }} as total_days,
        {{ dbt.datediff(
            'recognition_start',
            '(case when recognition_end <= ' ~ as_of_date() ~ ' then recognition_end else cast('
                ~ dbt.dateadd('day', 1, as_of_date()) ~ ' as date) end)',
            'day',
        ) }} as recognized_days
    from lines
),

rates as (
    {{ fx_rates_for('line_days', 'currency', 'invoice_date') }}
),

expected as (
    select
        sum(
            line_days.amount * rates.rate_to_reporting
            * cast(line_days.recognized_days as {{ dbt.type_float() }}) / line_days.total_days
        ) as revenue
    from line_days
    left join rates
        on rates.currency = line_days.currency
        and rates.rate_date = line_days.invoice_date
    where line_days.recognized_days > 0
),

published as (
    select sum(revenue) as revenue
    from {{ ref('fct_revenue_monthly') }}
),

compared as (
    select
        coalesce(expected.revenue, 0) as expected_revenue,
        coalesce(published.revenue, 0) as published_revenue
    from expected
    cross join published
)

select *
from compared
where abs(expected_revenue - published_revenue)
    > case when abs(expected_revenue) * 1e-9 > 0.01 then abs(expected_revenue) * 1e-9 else 0.01 end
