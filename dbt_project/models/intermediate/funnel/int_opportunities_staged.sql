{#- One row per opportunity that exists by as_of_date (created_at on or before it),
    with its outcome as of as_of_date, the highest funnel stage it has reached and
    its amount in the reporting currency.

    - Closed (won or lost) only when is_closed and close_date <= as_of_date; else open.
    - Highest stage: the highest stage_order among its stage history entries up to
      as_of_date and its current CRM stage; the current stage does not count when the
      history has entries after as_of_date. A won opportunity has reached every
      stage (the last open stage_order).
    - The amount converts at the rate of close_date once closed, else of the
      created_at date (fx_rate_join: latest rate on or before that date). -#}
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
    where cast(created_at as date) <= {{ as_of_date() }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

stage_mapping as (
    select * from {{ ref('stg_config__stage_mapping') }}
),

funnel_stages as (
    select * from {{ ref('int_funnel_stages_ordered') }}
),

stage_entries as (
    select * from {{ ref('int_opportunity_stage_entries_mapped') }}
),

stage_history as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

last_stage as (
    select max(stage_order) as last_stage_order
    from funnel_stages
),

opportunities_with_later_history as (
    select distinct opportunity_id
    from stage_history
    where cast(entered_at as date) > {{ as_of_date() }}
),

first_won_entries as (
    select
        opportunity_id,
        min(entered_at) as first_won_entered_at
    from stage_entries
    where stage_outcome = 'won'
    group by opportunity_id
),

outcomes as (
    select
        opportunities.*,
        stage_mapping.stage_order as current_stage_order,
        opportunities_with_later_history.opportunity_id is not null as has_history_after_as_of_date,
        (opportunities.is_closed and opportunities.close_date <= {{ as_of_date() }}) as is_closed_as_of,
        cast(opportunities.created_at as date) as created_date
    from opportunities
    left join stage_mapping
        on stage_mapping.crm_stage = opportunities.stage
    left join opportunities_with_later_history
        on opportunities_with_later_history.opportunity_id = opportunities.opportunity_id
),

stage_candidates as (
    select
        opportunity_id,
        stage_order
    from stage_entries
    where stage_order is not null
    union all
    select
        opportunity_id,
        current_stage_order as stage_order
    from outcomes
    where current_stage_order is not null
        and not has_history_after_as_of_date
),

highest_entered as (
    select
        opportunity_id,
        max(stage_order) as highest_entered_stage_order
    from stage_candidates
    group by opportunity_id
),

staged as (
    select
        -- ids
        outcomes.opportunity_id,
        outcomes.account_id,
        outcomes.lead_id,
        outcomes.owner_id,
        -- attributes
        outcomes.opportunity_type,
        coalesce(accounts.segment, 'Unknown') as segment,
        outcomes.stage as crm_stage,
        outcomes.has_history_after_as_of_date,
        outcomes.is_closed_as_of as is_closed,
        (outcomes.is_closed_as_of and outcomes.is_won) as is_won,
        case
            when outcomes.is_closed_as_of and outcomes.is_won then 'won'
            when outcomes.is_closed_as_of then 'lost'
            else 'open'
        end as outcome,
        case when outcomes.is_closed_as_of then outcomes.loss_reason end as loss_reason,
        case
            when outcomes.is_closed_as_of and outcomes.is_won then last_stage.last_stage_order
            else highest_entered.highest_entered_stage_order
        end as highest_stage_order,
        -- amounts
        outcomes.amount,
        outcomes.currency,
        case
            when outcomes.is_closed_as_of then outcomes.close_date
            else outcomes.created_date
        end as fx_rate_date,
        -- timestamps
        outcomes.created_at,
        outcomes.created_date,
        outcomes.close_date,
        first_won_entries.first_won_entered_at
    from outcomes
    cross join last_stage
    left join accounts
        on accounts.account_id = outcomes.account_id
    left join highest_entered
        on highest_entered.opportunity_id = outcomes.opportunity_id
    left join first_won_entries
        on first_won_entries.opportunity_id = outcomes.opportunity_id
),

converted as (
    select
        staged.*,
        funnel_stages.funnel_stage as highest_funnel_stage,
        staged.amount * fx.rate_to_reporting as amount_reporting,
        {{ month_start('staged.created_date') }} as cohort_month,
        case when staged.is_closed then {{ month_start('staged.close_date') }} end as close_month,
        case
            when staged.is_closed
                then {{ dbt.datediff('staged.created_date', 'staged.close_date', 'day') }}
        end as sales_cycle_days
    from staged
    left join funnel_stages
        on funnel_stages.stage_order = staged.highest_stage_order
    {{ fx_rate_join('staged.currency', 'staged.fx_rate_date', alias='fx') }}
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
        has_history_after_as_of_date,
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
        created_date,
        cohort_month,
        close_date,
        close_month,
        sales_cycle_days,
        first_won_entered_at
    from converted
)

select * from final
