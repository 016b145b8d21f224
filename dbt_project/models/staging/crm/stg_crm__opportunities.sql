with source as (
    select * from {{ source('crm', 'opportunities') }}
),

renamed as (
    select
        {{ crm_opportunity_columns() }}
    from source
)

select * from renamed
