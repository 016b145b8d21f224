{#- One row per open funnel stage of the stage mapping (setting stage_mapping), in
    order: several CRM stages may share one stage_order and then share its
    funnel_stage (assert_stage_mapping_is_consistent fails when they name it
    differently). The last open stage advances to won. -#}
with stage_mapping as (
    select * from {{ ref('stg_config__stage_mapping') }}
),

open_stages as (
    select
        stage_order,
        min(funnel_stage) as funnel_stage
    from stage_mapping
    where outcome = 'open'
        and stage_order is not null
    group by stage_order
),

ordered as (
    select
        stage_order,
        funnel_stage,
        lead(stage_order) over (order by stage_order) as next_stage_order,
        stage_order = max(stage_order) over () as is_last_stage
    from open_stages
)

select * from ordered
