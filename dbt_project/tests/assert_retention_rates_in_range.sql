{#- Signs and ranges of docs/metrics.md for the retention marts; every returned row is a
    failure: rates in [0, 1] except nrr and net_renewal_rate (>= 0), movement columns
    with their sign, renewed ARR never above the expiring or the successor ARR. -#}
with movements as (
    select * from {{ ref('mrr_movements') }}
),

retention as (
    select * from {{ ref('revenue_retention') }}
),

renewals as (
    select * from {{ ref('renewals') }}
),

failures as (
    select 'mrr_movements' as model, month as period, 'movement sign' as failure
    from movements
    where new_mrr < 0
        or reactivation_mrr < 0
        or expansion_mrr < 0
        or contraction_mrr > 0
        or churned_mrr > 0
        or ending_mrr < 0

    union all

    select 'revenue_retention' as model, month as period, 'rate out of range' as failure
    from retention
    where grr < 0 or grr > 1
        or logo_retention < 0 or logo_retention > 1
        or nrr < 0
        or gross_retained_mrr > starting_mrr + 0.000001
        or retained_customers > cohort_customers

    union all

    select 'renewals' as model, expiry_month as period, 'rate out of range' as failure
    from renewals
    where gross_renewal_rate < 0 or gross_renewal_rate > 1
        or logo_renewal_rate < 0 or logo_renewal_rate > 1
        or net_renewal_rate < 0
        or renewed_arr > expiring_arr + 0.000001
        or renewed_arr > successor_arr + 0.000001
        or accounts_renewed > accounts_expiring
)

select * from failures
