with source as (
    select * from {{ source('crm', 'accounts') }}
),

renamed as (
    select
        -- ids
        account_id,
        -- attributes
        account_name,
        segment,
        industry,
        upper(country) as country,
        -- timestamps
        created_at
    from source
)

select * from renamed
