with source as (
    select * from {{ source('crm', 'opportunities_snapshots') }}
),

renamed as (
    select
        {{ crm_opportunity_columns() }},
        -- the extract
        _source_file as source_file,
        _extract_date as file_extract_date,
        _source_row as source_row
    from source
)

select * from renamed
