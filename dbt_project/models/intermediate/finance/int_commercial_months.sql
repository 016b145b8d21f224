{#- The monthly inputs of the commercial ratio: one row per calendar month from the
    first data month (the earliest month with recognized revenue or spend) to the month
    of as_of_date, with recognized revenue and marketing and sales spend in the
    reporting currency. A month without revenue or spend holds 0. -#}
with revenue_by_month as (
    select
        month,
        {{ exact_sum('revenue') }} as revenue
    from {{ ref('int_invoice_lines_recognized') }}
    group by month
),

spend_by_month as (
    select
        month,
        {{ exact_sum("case when department = 'marketing' then amount_reporting else 0 end") }} as marketing_expense,
        {{ exact_sum("case when department = 'sales' then amount_reporting else 0 end") }} as sales_expense
    from {{ ref('int_spend_converted') }}
    group by month
),

data_months as (
    select month from revenue_by_month
    union all
    select month from spend_by_month
),

first_data_month as (
    select min(month) as first_data_month
    from data_months
),

months as (
    select distinct calendar.month_start as month
    from {{ ref('int_calendar_days') }} as calendar
    inner join first_data_month
        on calendar.month_start >= first_data_month.first_data_month
),

joined as (
    select
        -- dates
        months.month,
        -- amounts
        coalesce(revenue_by_month.revenue, 0) as revenue,
        coalesce(spend_by_month.marketing_expense, 0) as marketing_expense,
        coalesce(spend_by_month.sales_expense, 0) as sales_expense
    from months
    left join revenue_by_month
        on months.month = revenue_by_month.month
    left join spend_by_month
        on months.month = spend_by_month.month
)

select * from joined
