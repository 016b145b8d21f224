{#- Revenue retention per month M (docs/metrics.md), for every month whose M-12 is not before
    the first month with any MRR: the cohort is the accounts with mrr > 0 in M-12;
    grr caps each account at its M-12 MRR, nrr does not. -#}
with account_mrr as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

months as (
    select months.month
    from {{ ref('int_mrr_months') }} as months
    where months.month >= cast(
        {{ dbt.dateadd('month', 12, '(select min(first_mrr_month) from account_mrr)') }} as date
    )
),

cohorts as (
    -- the cohort of month M: accounts with MRR in M-12
    select
        account_id,
        cast({{ dbt.dateadd('month', 12, 'month') }} as date) as month,
        mrr as starting_mrr
    from account_mrr
    where mrr > 0
),

cohort_outcomes as (
    select
        cohorts.month,
        cohorts.account_id,
        cohorts.starting_mrr,
        coalesce(current_mrr.mrr, cast(0 as double)) as current_mrr
    from cohorts
    left join account_mrr as current_mrr
        on current_mrr.account_id = cohorts.account_id
        and current_mrr.month = cohorts.month
),

monthly as (
    select
        month,
        count(*) as cohort_customers,
        {{ exact_sum('starting_mrr') }} as starting_mrr,
        count(case when current_mrr > 0 then 1 end) as retained_customers,
        {{ exact_sum('least(current_mrr, starting_mrr)') }} as gross_retained_mrr,
        {{ exact_sum('current_mrr') }} as net_retained_mrr
    from cohort_outcomes
    group by month
),

spined as (
    select
        months.month,
        coalesce(monthly.cohort_customers, 0) as cohort_customers,
        coalesce(monthly.starting_mrr, 0) as starting_mrr,
        coalesce(monthly.retained_customers, 0) as retained_customers,
        coalesce(monthly.gross_retained_mrr, 0) as gross_retained_mrr,
        coalesce(monthly.net_retained_mrr, 0) as net_retained_mrr
    from months
    left join monthly
        on monthly.month = months.month
),

final as (
    select
        -- in the column order of docs/metrics.md
        month,
        cohort_customers,
        starting_mrr,
        retained_customers,
        gross_retained_mrr,
        net_retained_mrr,
        case when starting_mrr > 0 then gross_retained_mrr / starting_mrr end as grr,
        case when starting_mrr > 0 then net_retained_mrr / starting_mrr end as nrr,
        case when cohort_customers > 0 then cast(retained_customers as double) / cohort_customers end as logo_retention
    from spined
)

select * from final
