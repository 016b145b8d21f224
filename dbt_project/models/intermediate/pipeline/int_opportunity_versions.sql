{#- One row per version of an opportunity (docs/metrics.md, "Pipeline history"): a
    version starts on the first extract date on which the opportunity has a state, and
    on every later extract date whose state differs from the previous version in a
    tracked field (a null and a value differ; two nulls do not). An extract date that
    does not hold the opportunity changes nothing: deletes are never inferred.
    funnel_stage comes from the stage mapping; a closed state is `Won` or `Lost`. -#}
{%- set tracked = ['account_id', 'opportunity_type', 'stage', 'is_closed', 'is_won',
                   'close_date', 'amount', 'currency', 'owner_id'] -%}
with states as (
    select * from {{ ref('int_opportunity_extract_states') }}
),

stage_mapping as (
    select * from {{ ref('stg_config__stage_mapping') }}
),

compared as (
    select
        states.*,
        row_number() over (partition by states.opportunity_id order by states.extract_date) as state_number,
        {%- for column in tracked %}
        lag(states.{{ column }}) over (partition by states.opportunity_id order by states.extract_date)
            as previous_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from states
),

changed as (
    select *
    from compared
    where state_number = 1
        {%- for column in tracked %}
        or {{ column }} is distinct from previous_{{ column }}
        {%- endfor %}
),

versions as (
    select
        changed.*,
        lead(changed.extract_date) over (
            partition by changed.opportunity_id order by changed.extract_date
        ) as valid_to
    from changed
),

final as (
    select
        -- keys
        versions.opportunity_id,
        versions.extract_date as valid_from,
        versions.valid_to,
        -- tracked fields
        {%- for column in tracked %}
        versions.{{ column }},
        {%- endfor %}
        -- stage
        case
            when versions.is_closed and versions.is_won then 'Won'
            when versions.is_closed then 'Lost'
            else stage_mapping.funnel_stage
        end as funnel_stage,
        case when not versions.is_closed then stage_mapping.stage_order end as stage_order,
        -- the extract
        versions.created_date,
        versions.source_file
    from versions
    left join stage_mapping
        on stage_mapping.crm_stage = versions.stage
)

select * from final
