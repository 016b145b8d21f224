with source as (
    select * from {{ source('billing', 'invoice_lines') }}
),

renamed as (
    select
        -- ids
        invoice_line_id,
        invoice_id,
        account_id,
        subscription_id,
        -- attributes
        line_type,
        -- amounts
        amount,
        upper(currency) as currency,
        -- dates
        invoice_date,
        service_start,
        service_end
    from source
)

select * from renamed
