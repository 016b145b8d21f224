{#- One row per subscription that exists by as_of_date (start_date <= as_of_date), with
    its ARR and MRR in the reporting currency at the rate of its start_date, and the
    day and month in which it expires (its last day of service, end_date - 1 day). -#}
with subscriptions as (
    select *
    from {{ ref('stg_billing__subscriptions') }}
    where start_date <= {{ as_of_date() }}
),

converted as (
    select
        -- ids
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.opportunity_id,
        -- attributes
        subscriptions.product,
        subscriptions.currency,
        -- amounts
        subscriptions.arr,
        fx.rate_to_reporting,
        subscriptions.arr * fx.rate_to_reporting as arr_reporting,
        subscriptions.arr * fx.rate_to_reporting / 12 as mrr_reporting,
        -- dates
        subscriptions.start_date,
        subscriptions.end_date,
        cast({{ dbt.dateadd('day', -1, 'subscriptions.end_date') }} as date) as expiry_date
    from subscriptions
    {{ fx_rate_join('subscriptions.currency', 'subscriptions.start_date', alias='fx') }}
),

final as (
    select
        *,
        {{ month_start('expiry_date') }} as expiry_month
    from converted
)

select * from final
