with source as (
    select * from {{ source('config', 'stage_mapping') }}
),

renamed as (
    select
        -- keys
        crm_stage,
        -- attributes
        funnel_stage,
        stage_order,
        outcome
    from source
)

select * from renamed
