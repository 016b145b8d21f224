{#- One row per CRM account, with 'Unknown' for a null segment. -#}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

final as (
    select
        -- ids
        account_id,
        -- attributes
        account_name,
        coalesce(segment, 'Unknown') as segment,
        industry,
        country,
        -- timestamps
        created_at
    from accounts
)

select * from final
