{#- Recognized revenue: one row per (invoice line, calendar month) in which the line
    recognizes at least one day on or before as_of_date (docs/metrics.md, commercial ratio).

    A line with a valid service period [service_start, service_end) is recognized
    evenly per day over it; any other line (no period, only one of the two dates, or
    service_end <= service_start) is recognized in full on its invoice_date. Only lines
    invoiced on or before as_of_date count, and only their days up to as_of_date are
    recognized. Every line type counts; credits (negative amounts) reduce revenue.
    Amounts convert at the latest rate on or before the invoice_date.

    A row per line and month (not per day) keeps the model small at scale:
    recognized_days is the number of days in month ∩ service period ∩ (<= as_of_date).
    Lines are expanded over their months with an equality-free join on a month offset
    (0, 1, 2, ... up to the number of months the line spans), which every engine runs
    as a cheap merge join, rather than a range join against a month table. -#}
with invoice_lines as (
    select *
    from {{ ref('stg_billing__invoice_lines') }}
    where invoice_date <= {{ as_of_date() }}
),

recognition_windows as (
    select
        -- ids
        invoice_line_id,
        invoice_id,
        account_id,
        subscription_id,
        -- attributes
        line_type,
        case
            when service_start is not null and service_end is not null and service_end > service_start
                then 'service_period'
            else 'invoice_date'
        end as recognition_basis,
        -- amounts
        amount,
        currency,
        -- dates
        invoice_date,
        service_start,
        service_end
    from invoice_lines
),

recognition_dates as (
    select
        *,
        case
            when recognition_basis = 'service_period' then service_start
            else invoice_date
        end as recognition_start,
        case
            when recognition_basis = 'service_period' then service_end
            else cast({{ dbt.dateadd('day', 1, 'invoice_date') }} as date)
        end as recognition_end
    from recognition_windows
),

recognizable as (
    select
        *,
        {{ dbt.datediff('recognition_start', 'recognition_end', 'day') }} as total_days,
        case
            when recognition_end <= {{ as_of_date() }} then recognition_end
            else cast({{ dbt.dateadd('day', 1, as_of_date()) }} as date)
        end as recognized_until
    from recognition_dates
    where recognition_start <= {{ as_of_date() }}
),

spanned as (
    select
        *,
        {{ month_start('recognition_start') }} as first_month,
        {{ dbt.datediff(
            month_start('recognition_start'),
            month_start(dbt.dateadd('day', -1, 'recognized_until')),
            'month',
        ) }} + 1 as months_spanned
    from recognizable
),

rates as (
    {{ fx_rates_for('spanned', 'currency', 'invoice_date') }}
),

converted as (
    select
        spanned.*,
        rates.rate_to_reporting
    from spanned
    left join rates
        on rates.currency = spanned.currency
        and rates.rate_date = spanned.invoice_date
),

{#- 0 .. (months in the calendar - 1): every line's months lie within the calendar,
    which starts at or before its recognition_start and ends with as_of_date -#}
month_offsets as (
    select row_number() over (order by month_start) - 1 as month_offset
    from (
        select distinct month_start
        from {{ ref('int_calendar_days') }}
    ) as calendar_months
),

line_months as (
    select
        converted.*,
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'converted.first_month') }} as date) as month
    from converted
    inner join month_offsets
        on month_offsets.month_offset < converted.months_spanned
),

line_month_days as (
    select
        *,
        {{ dbt.datediff(
            '(case when recognition_start > month then recognition_start else month end)',
            '(case when recognized_until < ' ~ dbt.dateadd('month', 1, 'month')
                ~ ' then recognized_until else ' ~ dbt.dateadd('month', 1, 'month') ~ ' end)',
            'day',
        ) }} as recognized_days
    from line_months
),

final as (
    select
        -- ids
        invoice_line_id,
        invoice_id,
        account_id,
        subscription_id,
        -- attributes
        line_type,
        recognition_basis,
        currency,
        -- dates
        month,
        invoice_date,
        service_start,
        service_end,
        recognition_start,
        recognition_end,
        -- days
        total_days,
        recognized_days,
        -- amounts
        amount,
        amount * cast(recognized_days as {{ dbt.type_float() }}) / total_days as recognized_amount,
        rate_to_reporting,
        amount * cast(recognized_days as {{ dbt.type_float() }}) / total_days * rate_to_reporting as revenue
    from line_month_days
)

select * from final
