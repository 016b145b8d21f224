{#- One row per opportunity that exists by as_of_date: outcome as of as_of_date,
    funnel stage reached, amount in the reporting currency and, once closed, the
    sales cycle. The fact behind opportunity_funnel and win_rates. -#}
with opportunities as (
    select * from {{ ref('int_opportunities_staged') }}
),

final as (
    select
        -- ids
        opportunity_id,
        account_id,
        lead_id,
        owner_id,
        -- attributes
        opportunity_type,
        segment,
        crm_stage,
        highest_stage_order,
        highest_funnel_stage,
        outcome,
        is_closed,
        is_won,
        loss_reason,
        -- amounts
        amount,
        currency,
        fx_rate_date,
        amount_reporting,
        -- dates and timestamps
        created_at,
        cohort_month,
        close_date,
        close_month,
        cast(sales_cycle_days as bigint) as sales_cycle_days
    from opportunities
)

select * from final
