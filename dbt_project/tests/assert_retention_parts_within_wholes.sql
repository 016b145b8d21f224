{#- The retention marts' parts never exceed their wholes (docs/metrics.md); every returned
    row is a failure: retained MRR and customers within the cohort's, renewed ARR and
    accounts within the expiring ones, renewed ARR within the successor ARR. The
    columns' own ranges (rates in [0, 1], movement signs) are the published contract,
    checked by the marts' Great Expectations suites from `meta.range` in their ymls. -#}
{{ config(store_failures=store_failures_in_build()) }}

with retention as (
    select * from {{ ref('revenue_retention') }}
),

renewals as (
    select * from {{ ref('renewals') }}
),

failures as (
    select 'revenue_retention' as model, month as period, 'retained above the cohort' as failure
    from retention
    where gross_retained_mrr > starting_mrr + 0.000001
        or retained_customers > cohort_customers

    union all

    select 'renewals' as model, expiry_month as period, 'renewed above expiring or successor' as failure
    from renewals
    where renewed_arr > expiring_arr + 0.000001
        or renewed_arr > successor_arr + 0.000001
        or accounts_renewed > accounts_expiring
)

select * from failures
