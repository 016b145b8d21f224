{#- One row per (opportunity, open funnel stage) that the opportunity's stage history
    (up to as_of_date) shows, with the first time it entered that stage and the first
    time it entered the next one: the next stage_order, or for the last open stage
    the first entry of a CRM stage whose outcome is won. days_to_next is the whole
    UTC days between the two first entries, null when the history does not show the
    next one. Going back a stage and re-entering it does not move a first entry. -#}
with stage_entries as (
    select * from {{ ref('int_opportunity_stage_entries_mapped') }}
),

funnel_stages as (
    select * from {{ ref('int_funnel_stages_ordered') }}
),

first_entries as (
    select
        opportunity_id,
        stage_order,
        min(entered_at) as first_entered_at
    from stage_entries
    where stage_outcome = 'open'
        and stage_order is not null
    group by opportunity_id, stage_order
),

first_won_entries as (
    select
        opportunity_id,
        min(entered_at) as first_won_entered_at
    from stage_entries
    where stage_outcome = 'won'
    group by opportunity_id
),

with_next as (
    select
        -- ids
        first_entries.opportunity_id,
        -- attributes
        first_entries.stage_order,
        funnel_stages.funnel_stage,
        funnel_stages.is_last_stage,
        -- timestamps
        first_entries.first_entered_at,
        case
            when funnel_stages.is_last_stage then first_won_entries.first_won_entered_at
            else next_entries.first_entered_at
        end as next_first_entered_at
    from first_entries
    inner join funnel_stages
        on funnel_stages.stage_order = first_entries.stage_order
    left join first_entries as next_entries
        on next_entries.opportunity_id = first_entries.opportunity_id
        and next_entries.stage_order = funnel_stages.next_stage_order
    left join first_won_entries
        on first_won_entries.opportunity_id = first_entries.opportunity_id
),

timed as (
    select
        opportunity_id,
        stage_order,
        funnel_stage,
        is_last_stage,
        first_entered_at,
        next_first_entered_at,
        {{ dbt.datediff('cast(first_entered_at as date)', 'cast(next_first_entered_at as date)', 'day') }}
            as days_to_next
    from with_next
)

select * from timed
