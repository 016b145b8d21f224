{#- One row per (snapshot date, opportunity with a state on it): the version valid on
    the date (valid_from <= date < valid_to), with the account's segment (else
    `Unknown`, as in the funnel marts) and the amount converted at the latest rate on
    or before the snapshot date. -#}
with dates as (
    select * from {{ ref('int_pipeline_snapshot_dates') }}
),

versions as (
    select * from {{ ref('int_opportunity_versions') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

states as (
    select
        dates.snapshot_date,
        versions.*
    from dates
    inner join versions
        on versions.valid_from <= dates.snapshot_date
        and (versions.valid_to is null or dates.snapshot_date < versions.valid_to)
),

rates as (
    {{ fx_rates_for('states', 'currency', 'snapshot_date') }}
),

final as (
    select
        -- keys
        states.snapshot_date,
        states.opportunity_id,
        -- attributes
        coalesce(accounts.segment, 'Unknown') as segment,
        states.account_id,
        states.opportunity_type,
        states.stage,
        states.funnel_stage,
        states.stage_order,
        states.is_closed,
        states.is_won,
        not states.is_closed as is_open,
        states.close_date,
        states.owner_id,
        states.valid_from,
        -- amounts
        states.amount,
        states.currency,
        states.amount * rates.rate_to_reporting as amount_reporting
    from states
    left join accounts
        on accounts.account_id = states.account_id
    left join rates
        on rates.currency = states.currency
        and rates.rate_date = states.snapshot_date
)

select * from final
