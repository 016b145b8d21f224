with source as (
    select * from {{ source('crm', 'opportunities_snapshots') }}
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
        close_date,
        -- the extract
        _source_file as source_file,
        _extract_date as file_extract_date,
        _source_row as source_row
    from source
)

select * from renamed
