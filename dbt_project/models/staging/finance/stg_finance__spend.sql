with source as (
    select * from {{ source('finance', 'spend') }}
),

renamed as (
    select
        -- ids
        spend_id,
        campaign_id,
        -- attributes
        department,
        category,
        channel,
        description,
        -- amounts
        amount,
        upper(currency) as currency,
        -- dates
        spend_date
    from source
)

select * from renamed
