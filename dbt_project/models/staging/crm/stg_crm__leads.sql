with source as (
    select * from {{ source('crm', 'leads') }}
),

renamed as (
    select
        -- ids
        lead_id,
        campaign_id,
        account_id,
        opportunity_id,
        -- attributes
        channel,
        -- timestamps
        created_at,
        mql_at,
        sql_at,
        converted_at,
        disqualified_at
    from source
)

select * from renamed
