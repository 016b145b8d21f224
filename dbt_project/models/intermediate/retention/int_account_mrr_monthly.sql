{#- One row per account and month, from the account's first month with MRR to the month
    of as_of_date (months without MRR in between are rows with mrr 0), with the MRR
    movement against the month before (docs/metrics.md, MRR movements).

    mrr(account, M) = sum of arr/12 over the account's subscriptions active on the
    measuring day d(M): start_date <= d(M) < end_date (or end_date null). An mrr under
    half a cent counts as 0; a change under half a cent is no change. The starting_mrr
    of an account's first month is 0 (it had no MRR before), so summed over accounts
    every month's ending MRR equals the next month's starting MRR. -#}
{%- set half_a_cent = 0.005 -%}

with months as (
    select * from {{ ref('int_mrr_months') }}
),

subscriptions as (
    select * from {{ ref('int_subscriptions_converted') }}
),

subscription_months as (
    -- every month whose measuring day a subscription covers
    select
        subscriptions.account_id,
        months.month,
        subscriptions.mrr_reporting
    from subscriptions
    inner join months
        on subscriptions.start_date <= months.measuring_date
        and coalesce(subscriptions.end_date, cast('9999-12-31' as date)) > months.measuring_date
),

measured as (
    select
        account_id,
        month,
        {{ exact_sum('mrr_reporting') }} as measured_mrr,
        count(*) as active_subscriptions
    from subscription_months
    group by account_id, month
),

first_months as (
    select
        account_id,
        min(month) as first_mrr_month
    from measured
    where measured_mrr >= {{ half_a_cent }}
    group by account_id
),

account_spine as (
    -- set-based spine: each account with every month from its first MRR month on
    select
        first_months.account_id,
        first_months.first_mrr_month,
        months.month,
        months.measuring_date
    from first_months
    inner join months
        on months.month >= first_months.first_mrr_month
),

account_mrr as (
    select
        account_spine.account_id,
        account_spine.month,
        account_spine.measuring_date,
        account_spine.first_mrr_month,
        coalesce(measured.active_subscriptions, 0) as active_subscriptions,
        coalesce(measured.measured_mrr, 0) as measured_mrr,
        case
            when coalesce(measured.measured_mrr, 0) < {{ half_a_cent }} then cast(0 as double)
            else measured.measured_mrr
        end as mrr
    from account_spine
    left join measured
        on measured.account_id = account_spine.account_id
        and measured.month = account_spine.month
),

with_starting as (
    select
        *,
        coalesce(
            lag(mrr) over (partition by account_id order by month),
            cast(0 as double)
        ) as starting_mrr
    from account_mrr
),

classified as (
    select
        *,
        case
            when starting_mrr = 0 and mrr > 0 and month = first_mrr_month then 'new'
            when starting_mrr = 0 and mrr > 0 then 'reactivation'
            when starting_mrr > 0 and mrr = 0 then 'churn'
            when starting_mrr > 0 and mrr - starting_mrr >= {{ half_a_cent }} then 'expansion'
            when starting_mrr > 0 and mrr - starting_mrr <= -{{ half_a_cent }} then 'contraction'
            when starting_mrr > 0 then 'unchanged'
            else 'inactive'
        end as movement_type
    from with_starting
),

final as (
    select
        -- ids
        account_id,
        month,
        -- dates
        measuring_date,
        first_mrr_month,
        -- attributes
        movement_type,
        active_subscriptions,
        starting_mrr > 0 as is_active_start,
        mrr > 0 as is_active_end,
        -- amounts
        measured_mrr,
        starting_mrr,
        mrr,
        case
            when movement_type in ('unchanged', 'inactive') then cast(0 as double)
            else mrr - starting_mrr
        end as movement_mrr,
        case when movement_type = 'new' then mrr - starting_mrr else 0 end as new_mrr,
        case when movement_type = 'reactivation' then mrr - starting_mrr else 0 end as reactivation_mrr,
        case when movement_type = 'expansion' then mrr - starting_mrr else 0 end as expansion_mrr,
        case when movement_type = 'contraction' then mrr - starting_mrr else 0 end as contraction_mrr,
        case when movement_type = 'churn' then mrr - starting_mrr else 0 end as churned_mrr
    from classified
)

select * from final
