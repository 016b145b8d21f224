{#- Spend on or before as_of_date per calendar month, department, category and channel,
    in the reporting currency (from int_spend_converted). -#}
with spend as (
    select * from {{ ref('int_spend_converted') }}
),

monthly as (
    select
        -- grain
        month,
        department,
        category,
        channel,
        -- counts
        count(*) as spend_rows,
        -- amounts
        {{ exact_sum('amount_reporting') }} as spend
    from spend
    group by month, department, category, channel
),

calendared as (
    select
        monthly.month,
        {{ fiscal_quarter_start('monthly.month') }} as fiscal_quarter_start,
        {{ fiscal_quarter_label('monthly.month') }} as fiscal_quarter_label,
        {{ fiscal_year('monthly.month') }} as fiscal_year,
        monthly.department,
        monthly.category,
        monthly.channel,
        monthly.spend_rows,
        monthly.spend
    from monthly
)

select * from calendared
