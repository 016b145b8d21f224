{#- Blocking: every CRM stage name found on an opportunity (its current stage) or in
    the stage history or any opportunities extract (the snapshots) must be in the stage mapping (exact match). A missing stage is a
    data-quality failure, never a guess. Returns each unmapped stage with how many
    opportunities carry it and where it was seen. All rows are checked, whatever
    their dates. A failure's rows name the stages (the refresh quotes them). -#}
{{ config(store_failures=store_failures_in_build()) }}

with stage_mapping as (
    select crm_stage from {{ ref('stg_config__stage_mapping') }}
),

stages_seen as (
    select
        stage as crm_stage,
        opportunity_id,
        'current stage' as seen_in
    from {{ ref('stg_crm__opportunities') }}
    union all
    select
        stage as crm_stage,
        opportunity_id,
        'stage history' as seen_in
    from {{ ref('stg_crm__opportunity_stage_history') }}
    union all
    select
        stage as crm_stage,
        opportunity_id,
        'extract snapshots' as seen_in
    from {{ ref('stg_crm__opportunities_snapshots') }}
),

unmapped as (
    select
        stages_seen.crm_stage,
        count(distinct stages_seen.opportunity_id) as opportunities,
        min(stages_seen.seen_in) as first_seen_in,
        max(stages_seen.seen_in) as last_seen_in
    from stages_seen
    left join stage_mapping
        on stage_mapping.crm_stage = stages_seen.crm_stage
    where stage_mapping.crm_stage is null
    group by stages_seen.crm_stage
),

final as (
    select
        crm_stage,
        opportunities,
        case
            when first_seen_in = last_seen_in then first_seen_in
            else first_seen_in || ' and ' || last_seen_in
        end as seen_in
    from unmapped
)

select * from final
