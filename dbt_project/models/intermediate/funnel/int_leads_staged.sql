{#- One row per lead that exists by as_of_date (created_at on or before it), with the
    funnel stages it has reached as of as_of_date, its linked opportunity and its
    segment.

    - Milestones count only when on or before as_of_date (by UTC date).
    - Linked opportunity: leads.opportunity_id when set and that opportunity exists
      by as_of_date; else the earliest-created existing opportunity whose lead_id is
      the lead (ties: the smallest opportunity_id).
    - Stages are monotone: won when the linked opportunity is won; opportunity when
      won, converted or linked; sql when opportunity or sql_at; mql when sql or mql_at.
    - Segment: the lead's account's segment, else the linked opportunity's account's
      segment, else 'Unknown' (a null segment or an unknown account falls through). -#}
with leads as (
    select * from {{ ref('stg_crm__leads') }}
    where cast(created_at as date) <= {{ as_of_date() }}
),

opportunities as (
    select * from {{ ref('int_opportunities_staged') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

opportunities_by_lead as (
    select
        lead_id,
        opportunity_id,
        row_number() over (
            partition by lead_id
            order by created_at, opportunity_id
        ) as lead_opportunity_rank
    from opportunities
    where lead_id is not null
),

linked as (
    select
        leads.*,
        coalesce(direct_opportunities.opportunity_id, opportunities_by_lead.opportunity_id)
            as linked_opportunity_id
    from leads
    left join opportunities as direct_opportunities
        on direct_opportunities.opportunity_id = leads.opportunity_id
    left join opportunities_by_lead
        on opportunities_by_lead.lead_id = leads.lead_id
        and opportunities_by_lead.lead_opportunity_rank = 1
),

milestones as (
    select
        linked.*,
        case when cast(linked.mql_at as date) <= {{ as_of_date() }} then linked.mql_at end
            as mql_at_to_date,
        case when cast(linked.sql_at as date) <= {{ as_of_date() }} then linked.sql_at end
            as sql_at_to_date,
        case when cast(linked.converted_at as date) <= {{ as_of_date() }} then linked.converted_at end
            as converted_at_to_date,
        case when cast(linked.disqualified_at as date) <= {{ as_of_date() }} then linked.disqualified_at end
            as disqualified_at_to_date,
        linked_opportunities.outcome as linked_opportunity_outcome,
        linked_opportunities.amount_reporting as linked_opportunity_amount_reporting,
        linked_opportunities.account_id as linked_opportunity_account_id
    from linked
    left join opportunities as linked_opportunities
        on linked_opportunities.opportunity_id = linked.linked_opportunity_id
),

reached_won as (
    select
        milestones.*,
        coalesce(linked_opportunity_outcome = 'won', false) as is_won
    from milestones
),

reached_opportunity as (
    select
        reached_won.*,
        (
            is_won
            or converted_at_to_date is not null
            or linked_opportunity_id is not null
        ) as is_opportunity
    from reached_won
),

reached_sql as (
    select
        reached_opportunity.*,
        (is_opportunity or sql_at_to_date is not null) as is_sql
    from reached_opportunity
),

reached_mql as (
    select
        reached_sql.*,
        (is_sql or mql_at_to_date is not null) as is_mql
    from reached_sql
),

final as (
    select
        -- ids
        reached_mql.lead_id,
        reached_mql.campaign_id,
        reached_mql.account_id,
        reached_mql.opportunity_id,
        reached_mql.linked_opportunity_id,
        reached_mql.linked_opportunity_account_id,
        -- attributes
        reached_mql.channel,
        coalesce(lead_accounts.segment, opportunity_accounts.segment, 'Unknown') as segment,
        reached_mql.is_mql,
        reached_mql.is_sql,
        reached_mql.is_opportunity,
        reached_mql.is_won,
        (reached_mql.disqualified_at_to_date is not null and not reached_mql.is_opportunity)
            as is_disqualified,
        reached_mql.linked_opportunity_outcome,
        -- amounts
        case
            when reached_mql.is_won then reached_mql.linked_opportunity_amount_reporting
            else 0
        end as won_amount,
        -- timestamps
        reached_mql.created_at,
        cast(reached_mql.created_at as date) as created_date,
        {{ month_start('cast(reached_mql.created_at as date)') }} as cohort_month,
        reached_mql.mql_at_to_date as mql_at,
        reached_mql.sql_at_to_date as sql_at,
        reached_mql.converted_at_to_date as converted_at,
        reached_mql.disqualified_at_to_date as disqualified_at
    from reached_mql
    left join accounts as lead_accounts
        on lead_accounts.account_id = reached_mql.account_id
    left join accounts as opportunity_accounts
        on opportunity_accounts.account_id = reached_mql.linked_opportunity_account_id
)

select * from final
