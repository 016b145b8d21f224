with source as (
    select * from {{ source('billing', 'subscriptions') }}
),

renamed as (
    select
        -- ids
        subscription_id,
        account_id,
        opportunity_id,
        -- attributes
        product,
        -- amounts
        arr,
        upper(currency) as currency,
        -- dates
        start_date,
        end_date
    from source
)

select * from renamed
