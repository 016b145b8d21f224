{#- One row per version of an opportunity (docs/metrics.md, "Pipeline history"), the
    amount converted at the latest rate on or before valid_from. -#}
with versions as (
    select * from {{ ref('int_opportunity_versions') }}
),

rates as (
    {{ fx_rates_for('versions', 'currency', 'valid_from') }}
),

final as (
    select
        -- keys
        versions.opportunity_id,
        versions.valid_from,
        versions.valid_to,
        -- tracked fields
        versions.account_id,
        versions.opportunity_type,
        versions.stage,
        versions.is_closed,
        versions.is_won,
        versions.close_date,
        versions.amount,
        versions.currency,
        versions.owner_id,
        -- derived
        versions.funnel_stage,
        versions.amount * rates.rate_to_reporting as amount_reporting
    from versions
    left join rates
        on rates.currency = versions.currency
        and rates.rate_date = versions.valid_from
)

select * from final
