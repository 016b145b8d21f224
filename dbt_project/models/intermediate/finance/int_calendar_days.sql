{#- The fiscal calendar: one row per day from the first date of the finance data (the
    earliest spend_date, invoice_date or service_start on or before as_of_date) to
    as_of_date, with its calendar month and its fiscal year and quarter for the
    configured fiscal_year_start_month. Empty when there is no such data.
    The day spine is built from a cross join of digits (10^6 days, more than any two
    dates in years 1-9999 lie apart), which runs on every warehouse engine. -#}
with spend_dates as (
    select min(spend_date) as first_date
    from {{ ref('stg_finance__spend') }}
    where spend_date <= {{ as_of_date() }}
),

invoice_line_dates as (
    select
        min(
            case
                when service_start is not null and service_start < invoice_date then service_start
                else invoice_date
            end
        ) as first_date
    from {{ ref('stg_billing__invoice_lines') }}
    where invoice_date <= {{ as_of_date() }}
),

bounds as (
    select
        case
            when spend_dates.first_date is null then invoice_line_dates.first_date
            when invoice_line_dates.first_date is null then spend_dates.first_date
            when spend_dates.first_date < invoice_line_dates.first_date then spend_dates.first_date
            else invoice_line_dates.first_date
        end as first_date,
        {{ as_of_date() }} as last_date
    from spend_dates
    cross join invoice_line_dates
),

digits as (
    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9
),

day_offsets as (
    select
        d0.digit
        + 10 * d1.digit
        + 100 * d2.digit
        + 1000 * d3.digit
        + 10000 * d4.digit
        + 100000 * d5.digit as day_offset
    from digits as d0
    cross join digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'bounds.first_date') }} as date) as date_day
    from bounds
    cross join day_offsets
    where bounds.first_date is not null
        and day_offsets.day_offset <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
),

calendar as (
    select
        -- day
        date_day,
        -- calendar month
        {{ month_start('date_day') }} as month_start,
        {{ month_end('date_day') }} as month_end,
        {{ month_label('date_day') }} as month_label,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        -- fiscal quarter
        {{ fiscal_quarter_start('date_day') }} as fiscal_quarter_start,
        {{ fiscal_quarter_end('date_day') }} as fiscal_quarter_end,
        {{ fiscal_quarter('date_day') }} as fiscal_quarter,
        {{ fiscal_quarter_label('date_day') }} as fiscal_quarter_label,
        -- fiscal year
        {{ fiscal_year_start('date_day') }} as fiscal_year_start,
        {{ fiscal_year_end('date_day') }} as fiscal_year_end,
        {{ fiscal_year('date_day') }} as fiscal_year,
        {{ fiscal_year_label('date_day') }} as fiscal_year_label
    from days
)

select * from calendar
