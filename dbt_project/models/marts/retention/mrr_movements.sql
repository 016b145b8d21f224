{#- MRR movements per month (docs/metrics.md), from the first month with any MRR to the month
    of as_of_date: the account movements of int_account_mrr_monthly summed per month.
    starting_mrr is the month before's ending_mrr (0 in the first month, when no account
    had MRR), so ending_mrr = next month's starting_mrr holds exactly. -#}
with account_mrr as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

months as (
    select months.month
    from {{ ref('int_mrr_months') }} as months
    where months.month >= (select min(first_mrr_month) from account_mrr)
),

monthly as (
    select
        month,
        {{ exact_sum('new_mrr') }} as new_mrr,
        {{ exact_sum('reactivation_mrr') }} as reactivation_mrr,
        {{ exact_sum('expansion_mrr') }} as expansion_mrr,
        {{ exact_sum('contraction_mrr') }} as contraction_mrr,
        {{ exact_sum('churned_mrr') }} as churned_mrr,
        {{ exact_sum('mrr') }} as ending_mrr,
        count(case when is_active_start then 1 end) as customers_start,
        count(case when movement_type = 'new' then 1 end) as new_customers,
        count(case when movement_type = 'reactivation' then 1 end) as reactivated_customers,
        count(case when movement_type = 'churn' then 1 end) as churned_customers,
        count(case when is_active_end then 1 end) as customers_end
    from account_mrr
    group by month
),

spined as (
    select
        months.month,
        coalesce(monthly.new_mrr, 0) as new_mrr,
        coalesce(monthly.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(monthly.expansion_mrr, 0) as expansion_mrr,
        coalesce(monthly.contraction_mrr, 0) as contraction_mrr,
        coalesce(monthly.churned_mrr, 0) as churned_mrr,
        coalesce(monthly.ending_mrr, 0) as ending_mrr,
        coalesce(monthly.customers_start, 0) as customers_start,
        coalesce(monthly.new_customers, 0) as new_customers,
        coalesce(monthly.reactivated_customers, 0) as reactivated_customers,
        coalesce(monthly.churned_customers, 0) as churned_customers,
        coalesce(monthly.customers_end, 0) as customers_end
    from months
    left join monthly
        on monthly.month = months.month
),

final as (
    select
        -- dates
        month,
        -- amounts
        coalesce(lag(ending_mrr) over (order by month), cast(0 as double)) as starting_mrr,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churned_mrr,
        ending_mrr,
        -- counts
        customers_start,
        new_customers,
        reactivated_customers,
        churned_customers,
        customers_end
    from spined
)

select * from final
