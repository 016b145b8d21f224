{#- commercial_ratio has a row for every complete fiscal year, fiscal quarter and ttm
    period from the first data month to as_of_date. The first data month is worked out
    here from staging, apart from the model: the earliest month with recognized revenue
    (a line invoiced on or before as_of_date, from its service_start when it has a
    valid service period, else its invoice_date) or spend, both on or before
    as_of_date. The expected periods come from a month series counted back from the
    month of as_of_date, apart from the model's own spine. Returns one row per missing
    period. -#}
{{ config(store_failures=store_failures_in_build()) }}

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
    select {{ month_start('recognized_from') }} as month
    from lines
    where recognized_from <= {{ as_of_date() }}
    union all
    select {{ month_start('spend_date') }} as month
    from {{ ref('stg_finance__spend') }}
    where spend_date <= {{ as_of_date() }}
),

first_month as (
    select min(month) as first_month
    from data_months
    having count(*) > 0
),

offsets as (
    {{ dbt.generate_series(4096) }}
),

months as (
    -- every month from the fiscal year holding the first data month to as_of_date's
    select
        cast({{ dbt.dateadd('month', '-(cast(offsets.generated_number as integer) - 1)', month_start(as_of_date())) }} as date)
            as month,
        first_month.first_month
    from offsets
    cross join first_month
),

in_range as (
    select month, first_month
    from months
    where month >= {{ fiscal_year_start('first_month') }}
),

expected as (
    select 'fiscal_year' as period_grain, month as period_start, {{ fiscal_year_end('month') }} as period_end
    from in_range
    where month = {{ fiscal_year_start('month') }}
    union all
    select 'fiscal_quarter', month, {{ fiscal_quarter_end('month') }}
    from in_range
    where month = {{ fiscal_quarter_start('month') }}
        and month >= {{ fiscal_quarter_start('first_month') }}
    union all
    select 'ttm', cast({{ dbt.dateadd('month', -11, 'month') }} as date), {{ month_end('month') }}
    from in_range
    where month >= first_month
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
