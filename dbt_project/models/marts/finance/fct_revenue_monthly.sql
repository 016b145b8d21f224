{#- Recognized revenue per calendar month, line type and invoice currency, in the
    reporting currency (from int_invoice_lines_recognized). Only months with
    recognized days have rows. -#}
with recognized as (
    select * from {{ ref('int_invoice_lines_recognized') }}
),

monthly as (
    select
        -- grain
        month,
        line_type,
        currency,
        -- counts
        count(*) as invoice_lines,  -- one row per line and month
        cast(sum(recognized_days) as {{ dbt.type_bigint() }}) as recognized_line_days,
        -- amounts
        {{ exact_sum('recognized_amount') }} as recognized_amount_local,
        {{ exact_sum('revenue') }} as revenue
    from recognized
    group by month, line_type, currency
),

calendared as (
    select
        monthly.month,
        {{ fiscal_quarter_start('monthly.month') }} as fiscal_quarter_start,
        {{ fiscal_quarter_label('monthly.month') }} as fiscal_quarter_label,
        {{ fiscal_year('monthly.month') }} as fiscal_year,
        monthly.line_type,
        monthly.currency,
        monthly.invoice_lines,
        monthly.recognized_line_days,
        monthly.recognized_amount_local,
        monthly.revenue
    from monthly
)

select * from calendared
