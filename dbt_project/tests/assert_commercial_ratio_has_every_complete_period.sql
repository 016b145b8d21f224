{#- commercial_ratio has a row for every complete fiscal year, fiscal quarter and ttm
    period from the first data month to as_of_date. The first data month is worked out
    here from staging, apart from the model: the earliest month with recognized revenue
    (a line invoiced on or before as_of_date, from its service_start when it has a
    valid service period, else its invoice_date) or spend, both on or before
    as_of_date. Returns one row per missing period. -#}
{{ config(store_failures=true) }}

with lines as (
    select
        case
            when service_start is not null and service_end is not null and service_end > service_start
                then service_start
            else invoice_date
        end as recognized_from
    from {{ ref('stg_billing__invoice_lines') }}
    where invoice_date <= {{ as_of_date() }}
),

data_months as (
    select cast(date_trunc('month', recognized_from) as date) as month
    from lines
    where recognized_from <= {{ as_of_date() }}
    union all
    select cast(date_trunc('month', spend_date) as date) as month
    from {{ ref('stg_finance__spend') }}
    where spend_date <= {{ as_of_date() }}
),

first_month as (
    select
        min(month) as first_month,
        (month(min(month)) - {{ fiscal_year_start_month() }} + 12) % 12 as months_into_year
    from data_months
    having count(*) > 0
),

starts as (
    select
        cast(first_month - to_months(months_into_year) as timestamp) as year_start,
        cast(first_month - to_months(months_into_year % 3) as timestamp) as quarter_start,
        cast(first_month as timestamp) as first_month
    from first_month
),

expected as (
    select
        'fiscal_year' as period_grain,
        cast(g.s as date) as period_start,
        cast(g.s + interval 12 month - interval 1 day as date) as period_end
    from starts, generate_series(starts.year_start, cast({{ as_of_date() }} as timestamp), interval 12 month) as g(s)
    union all
    select
        'fiscal_quarter',
        cast(g.s as date),
        cast(g.s + interval 3 month - interval 1 day as date)
    from starts, generate_series(starts.quarter_start, cast({{ as_of_date() }} as timestamp), interval 3 month) as g(s)
    union all
    select
        'ttm',
        cast(g.s - interval 11 month as date),
        cast(g.s + interval 1 month - interval 1 day as date)
    from starts, generate_series(starts.first_month, cast({{ as_of_date() }} as timestamp), interval 1 month) as g(s)
),

missing as (
    select expected.period_grain, expected.period_start, expected.period_end
    from expected
    left join {{ ref('commercial_ratio') }} as published
        on published.period_grain = expected.period_grain
        and published.period_start = expected.period_start
    where expected.period_end <= {{ as_of_date() }}
        and published.period_grain is null
)

select * from missing
