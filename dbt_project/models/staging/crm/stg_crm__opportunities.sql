with source as (
    select * from {{ source('crm', 'opportunities') }}
),

renamed as (
    select
        -- ids
        opportunity_id,
        account_id,
        lead_id,
        owner_id,
        -- attributes
        opportunity_type,
        stage,
        is_closed,
        is_won,
        loss_reason,
        -- amounts
        amount,
        upper(currency) as currency,
        -- timestamps
        created_at,
        close_date
    from source
)

select * from renamed
