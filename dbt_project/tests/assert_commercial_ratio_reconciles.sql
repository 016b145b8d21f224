{#- The fiscal_year and fiscal_quarter rows of commercial_ratio each partition the months
    from the first data month to as_of_date, so their totals must equal the monthly
    facts: revenue = fct_revenue_monthly, marketing/sales expense = fct_spend_monthly.
    Returns one row per grain and measure that differs by more than a cent (or one part
    in 10^9). -#}
{{ config(store_failures=store_failures_in_build()) }}

with published as (
    select
        period_grain,
        sum(revenue) as revenue,
        sum(marketing_expense) as marketing_expense,
        sum(sales_expense) as sales_expense
    from {{ ref('commercial_ratio') }}
    where period_grain in ('fiscal_year', 'fiscal_quarter')
    group by period_grain
),

revenue_facts as (
    select coalesce(sum(revenue), 0) as revenue
    from {{ ref('fct_revenue_monthly') }}
),

spend_facts as (
    select
        coalesce(sum(case when department = 'marketing' then spend else 0 end), 0) as marketing_expense,
        coalesce(sum(case when department = 'sales' then spend else 0 end), 0) as sales_expense
    from {{ ref('fct_spend_monthly') }}
),

differences as (
    select published.period_grain, 'revenue' as measure,
        published.revenue as published_total, revenue_facts.revenue as fact_total
    from published cross join revenue_facts
    union all
    select published.period_grain, 'marketing_expense',
        published.marketing_expense, spend_facts.marketing_expense
    from published cross join spend_facts
    union all
    select published.period_grain, 'sales_expense',
        published.sales_expense, spend_facts.sales_expense
    from published cross join spend_facts
)

select *
from differences
where abs(published_total - fact_total)
    > case when abs(fact_total) * 1e-9 > 0.01 then abs(fact_total) * 1e-9 else 0.01 end
