{#- One row per stage history entry of an opportunity that exists by as_of_date,
    entered on or before as_of_date (later entries are ignored), with its CRM stage
    mapped onto the funnel. CRM stage names match exactly; an unmapped stage keeps
    null mapping columns here and fails assert_every_crm_stage_mapped. -#}
with stage_history as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

opportunities as (
    select opportunity_id
    from {{ ref('stg_crm__opportunities') }}
    where cast(created_at as date) <= {{ as_of_date() }}
),

stage_mapping as (
    select * from {{ ref('stg_config__stage_mapping') }}
),

entries_to_date as (
    select
        stage_history.opportunity_id,
        stage_history.stage as crm_stage,
        stage_history.entered_at
    from stage_history
    inner join opportunities
        on opportunities.opportunity_id = stage_history.opportunity_id
    where cast(stage_history.entered_at as date) <= {{ as_of_date() }}
),

mapped as (
    select
        -- ids
        entries_to_date.opportunity_id,
        -- attributes
        entries_to_date.crm_stage,
        stage_mapping.funnel_stage,
        stage_mapping.stage_order,
        stage_mapping.outcome as stage_outcome,
        -- timestamps
        entries_to_date.entered_at,
        cast(entries_to_date.entered_at as date) as entered_date
    from entries_to_date
    left join stage_mapping
        on stage_mapping.crm_stage = entries_to_date.crm_stage
)

select * from mapped
