with source as (
    select * from {{ source('crm', 'campaigns') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        -- attributes
        campaign_name,
        channel,
        -- dates
        start_date,
        end_date
    from source
)

select * from renamed
