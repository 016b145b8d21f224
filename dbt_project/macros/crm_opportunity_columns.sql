{#- The renaming and typing of a CRM opportunity (docs/landing-contract.md, crm
    opportunities), shared by the two staging models of the entity:
    stg_crm__opportunities (the latest version of each opportunity) and
    stg_crm__opportunities_snapshots (every version in every extract, which adds the
    extract's columns after these). One entity, one column list: a column added to the
    landing contract is staged in both at once. -#}

{% macro crm_opportunity_columns() -%}
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
{%- endmacro %}
