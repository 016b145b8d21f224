{#- Blocking: the stage mapping (setting stage_mapping) is usable. Open rows have a
    stage_order >= 1, won and lost rows have none; the open orders run 1..n without a
    gap; CRM stages sharing an order share one funnel_stage; there is an open stage.
    Returns one row per problem, naming it. -#}
{{ config(store_failures=store_failures_in_build()) }}

with stage_mapping as (
    select * from {{ ref('stg_config__stage_mapping') }}
),

open_orders as (
    select distinct stage_order
    from stage_mapping
    where outcome = 'open'
        and stage_order is not null
),

problems as (
    select
        crm_stage as subject,
        'open stage without a stage_order >= 1' as problem
    from stage_mapping
    where outcome = 'open'
        and (stage_order is null or stage_order < 1)

    union all

    select
        crm_stage as subject,
        outcome || ' stage with a stage_order' as problem
    from stage_mapping
    where outcome in ('won', 'lost')
        and stage_order is not null

    union all

    select
        cast(stage_order as {{ dbt.type_string() }}) as subject,
        'stage_order shared by open stages with different funnel_stage names' as problem
    from stage_mapping
    where outcome = 'open'
        and stage_order is not null
    group by stage_order
    having count(distinct funnel_stage) > 1

    union all

    select
        cast(count(*) as {{ dbt.type_string() }}) || ' orders up to ' || cast(max(stage_order) as {{ dbt.type_string() }}) as subject,
        'open stage_orders do not run 1..n without a gap' as problem
    from open_orders
    having count(*) > 0
        and (min(stage_order) <> 1 or max(stage_order) <> count(*))

    union all

    select
        'stage mapping' as subject,
        'no open stage' as problem
    from open_orders
    having count(*) = 0
)

select * from problems
