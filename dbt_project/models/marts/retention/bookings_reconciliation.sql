{#- New-business ARR per fiscal quarter as the CRM books it and as billing bills it, so a
    gap between the two systems is visible.

    CRM: opportunities of type new_business won as of as_of_date (int_opportunities_staged:
    is_closed, is_won and close_date <= as_of_date), by the fiscal quarter of close_date,
    amount at the close_date rate.
    Billing: subscriptions that start a new customer, i.e. whose account had no MRR in
    any month before the month of the subscription's start_date (its first MRR month
    is that month or later, or it never had MRR), by the fiscal quarter of start_date,
    ARR at the start_date rate. A reactivated customer is not new business. -#}
with opportunities as (
    select * from {{ ref('int_opportunities_staged') }}
),

subscriptions as (
    select * from {{ ref('int_subscriptions_converted') }}
),

account_first_months as (
    select distinct
        account_id,
        first_mrr_month
    from {{ ref('int_account_mrr_monthly') }}
),

crm_won as (
    select
        opportunities.opportunity_id,
        {{ fiscal_quarter_start('opportunities.close_date') }} as fiscal_quarter_start,
        opportunities.amount_reporting
    from opportunities
    where opportunities.opportunity_type = 'new_business'
        and opportunities.outcome = 'won'
),

crm_quarters as (
    select
        fiscal_quarter_start,
        count(*) as crm_new_business_deals,
        {{ exact_sum('amount_reporting') }} as crm_new_business_arr
    from crm_won
    group by fiscal_quarter_start
),

billing_new as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        {{ fiscal_quarter_start('subscriptions.start_date') }} as fiscal_quarter_start,
        subscriptions.arr_reporting
    from subscriptions
    left join account_first_months
        on account_first_months.account_id = subscriptions.account_id
    where account_first_months.first_mrr_month is null
        or account_first_months.first_mrr_month >= {{ month_start('subscriptions.start_date') }}
),

billing_quarters as (
    select
        fiscal_quarter_start,
        count(distinct account_id) as billing_new_accounts,
        count(*) as billing_new_subscriptions,
        {{ exact_sum('arr_reporting') }} as billing_new_arr
    from billing_new
    group by fiscal_quarter_start
),

quarters as (
    select fiscal_quarter_start from crm_quarters
    union
    select fiscal_quarter_start from billing_quarters
),

joined as (
    select
        quarters.fiscal_quarter_start,
        coalesce(crm_quarters.crm_new_business_deals, 0) as crm_new_business_deals,
        coalesce(crm_quarters.crm_new_business_arr, 0) as crm_new_business_arr,
        coalesce(billing_quarters.billing_new_accounts, 0) as billing_new_accounts,
        coalesce(billing_quarters.billing_new_subscriptions, 0) as billing_new_subscriptions,
        coalesce(billing_quarters.billing_new_arr, 0) as billing_new_arr
    from quarters
    left join crm_quarters
        on crm_quarters.fiscal_quarter_start = quarters.fiscal_quarter_start
    left join billing_quarters
        on billing_quarters.fiscal_quarter_start = quarters.fiscal_quarter_start
),

final as (
    select
        -- dates
        fiscal_quarter_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'fiscal_quarter_start')) }} as date)
            as fiscal_quarter_end,
        -- crm
        crm_new_business_deals,
        crm_new_business_arr,
        -- billing
        billing_new_accounts,
        billing_new_subscriptions,
        billing_new_arr,
        -- gap
        billing_new_arr - crm_new_business_arr as arr_difference,
        case
            when crm_new_business_arr > 0
                then (billing_new_arr - crm_new_business_arr) / crm_new_business_arr
        end as relative_difference,
        -- flags
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'fiscal_quarter_start')) }} as date)
            <= {{ as_of_date() }} as is_complete
    from joined
)

select * from final
