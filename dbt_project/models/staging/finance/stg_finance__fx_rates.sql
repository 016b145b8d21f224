with source as (
    select * from {{ source('finance', 'fx_rates') }}
),

renamed as (
    select
        -- keys
        rate_date,
        upper(currency) as currency,
        -- amounts
        rate_to_reporting
    from source
)

select * from renamed
