with source as (
    select * from {{ source('crm', 'opportunity_stage_history') }}
),

renamed as (
    select
        -- ids
        opportunity_id,
        -- attributes
        stage,
        -- timestamps
        entered_at
    from source
)

select * from renamed
