{#- The MRR identity of docs/metrics.md, both parts; every returned row is a failure.

    1. starting_mrr + new + reactivation + expansion + contraction + churned = ending_mrr:
       per account and month within half a cent (a change under half a cent goes in no
       movement column), and per month in marts.mrr_movements up to exactly the sum of
       those sub-half-cent account changes (float tolerance: 1e-6 plus 1e-12 of the
       month's MRR, for summing tens of thousands of doubles in any order).
    2. ending_mrr = next month's starting_mrr, exactly: per account and per month; the
       customer counts carry over the same way, and the mart's starting_mrr is the sum
       of the accounts' starting_mrr. -#}
{{ config(store_failures=store_failures_in_build()) }}

{%- set half_a_cent = 0.005 -%}
{%- set float_tolerance = 0.000001 -%}
{%- set relative_tolerance = 0.000000000001 -%}

with account_mrr as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

movements as (
    select * from {{ ref('mrr_movements') }}
),

account_checked as (
    select
        account_id,
        month,
        starting_mrr + new_mrr + reactivation_mrr + expansion_mrr + contraction_mrr + churned_mrr
            - mrr as residual,
        starting_mrr,
        mrr,
        lead(starting_mrr) over (partition by account_id order by month) as next_starting_mrr
    from account_mrr
),

account_failures as (
    select
        'account identity' as failure,
        account_id,
        month,
        residual as difference
    from account_checked
    where abs(residual) > {{ half_a_cent }} + {{ float_tolerance }}

    union all

    select
        'account ending <> next starting' as failure,
        account_id,
        month,
        next_starting_mrr - mrr as difference
    from account_checked
    where next_starting_mrr is not null
        and next_starting_mrr <> mrr
),

account_months as (
    select
        month,
        sum(residual) as residual,
        sum(starting_mrr) as starting_mrr
    from account_checked
    group by month
),

month_checked as (
    select
        movements.month,
        movements.starting_mrr + movements.new_mrr + movements.reactivation_mrr
            + movements.expansion_mrr + movements.contraction_mrr + movements.churned_mrr
            - movements.ending_mrr as residual,
        coalesce(account_months.residual, 0) as account_residual,
        movements.starting_mrr,
        coalesce(account_months.starting_mrr, 0) as account_starting_mrr,
        movements.ending_mrr,
        lead(movements.starting_mrr) over (order by movements.month) as next_starting_mrr,
        movements.customers_start + movements.new_customers + movements.reactivated_customers
            - movements.churned_customers - movements.customers_end as customer_residual,
        movements.customers_end,
        lead(movements.customers_start) over (order by movements.month) as next_customers_start,
        row_number() over (order by movements.month) as month_number
    from movements
    left join account_months
        on account_months.month = movements.month
),

month_failures as (
    select
        'month identity' as failure,
        cast(null as {{ dbt.type_string() }}) as account_id,
        month,
        residual - account_residual as difference
    from month_checked
    where abs(residual - account_residual)
        > {{ float_tolerance }} + {{ relative_tolerance }} * greatest(abs(starting_mrr), abs(ending_mrr))

    union all

    select
        'month ending <> next starting' as failure,
        null as account_id,
        month,
        next_starting_mrr - ending_mrr as difference
    from month_checked
    where next_starting_mrr is not null
        and next_starting_mrr <> ending_mrr

    union all

    select
        'month starting <> sum of account starting' as failure,
        null as account_id,
        month,
        starting_mrr - account_starting_mrr as difference
    from month_checked
    where abs(starting_mrr - account_starting_mrr)
        > {{ float_tolerance }} + {{ relative_tolerance }} * abs(starting_mrr)

    union all

    select
        'first month starting <> 0' as failure,
        null as account_id,
        month,
        starting_mrr as difference
    from month_checked
    where month_number = 1
        and starting_mrr <> 0

    union all

    select
        'customer identity' as failure,
        null as account_id,
        month,
        customer_residual as difference
    from month_checked
    where customer_residual <> 0
        or (next_customers_start is not null and next_customers_start <> customers_end)
)

select * from account_failures
union all
select * from month_failures
