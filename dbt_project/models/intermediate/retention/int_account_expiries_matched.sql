{#- One row per account and expiry month P (up to the month of as_of_date) in which at
    least one of the account's subscriptions expires, matched with its successors
    (docs/metrics.md, Renewals).

    X = the account's subscriptions expiring in P (end_date - 1 day in P).
    Y = its other subscriptions (not in X) whose start_date lies in
        [earliest end_date in X - renewal_window_days, latest end_date in X + renewal_window_days]
        and on or before as_of_date (every subscription in int_subscriptions_converted
        already starts on or before as_of_date).
    The account renewed in P when Y is not empty. -#}
{%- set window_days = renewal_window_days() | trim | int -%}

with subscriptions as (
    select * from {{ ref('int_subscriptions_converted') }}
),

expiring as (
    select *
    from subscriptions
    where end_date is not null
        and expiry_month <= {{ month_start(as_of_date()) }}
),

expiring_sets as (
    select
        account_id,
        expiry_month,
        count(*) as expiring_subscriptions,
        {{ exact_sum('arr_reporting') }} as expiring_arr,
        min(end_date) as earliest_end_date,
        max(end_date) as latest_end_date
    from expiring
    group by account_id, expiry_month
),

windows as (
    select
        *,
        cast({{ dbt.dateadd('day', -window_days, 'earliest_end_date') }} as date) as window_start,
        cast({{ dbt.dateadd('day', window_days, 'latest_end_date') }} as date) as window_end
    from expiring_sets
),

successors as (
    select
        windows.account_id,
        windows.expiry_month,
        subscriptions.subscription_id,
        subscriptions.arr_reporting
    from windows
    inner join subscriptions
        on subscriptions.account_id = windows.account_id
        and subscriptions.start_date >= windows.window_start
        and subscriptions.start_date <= windows.window_end
    -- "its other subscriptions": a subscription of X is never its own successor
    where subscriptions.expiry_month is null
        or subscriptions.expiry_month <> windows.expiry_month
),

successor_sets as (
    select
        account_id,
        expiry_month,
        count(*) as successor_subscriptions,
        {{ exact_sum('arr_reporting') }} as successor_arr
    from successors
    group by account_id, expiry_month
),

final as (
    select
        -- ids
        windows.account_id,
        windows.expiry_month,
        -- dates
        windows.earliest_end_date,
        windows.latest_end_date,
        windows.window_start,
        windows.window_end,
        -- counts
        windows.expiring_subscriptions,
        coalesce(successor_sets.successor_subscriptions, 0) as successor_subscriptions,
        coalesce(successor_sets.successor_subscriptions, 0) > 0 as is_renewed,
        -- amounts
        windows.expiring_arr,
        coalesce(successor_sets.successor_arr, cast(0 as double)) as successor_arr,
        least(windows.expiring_arr, coalesce(successor_sets.successor_arr, cast(0 as double)))
            as renewed_arr
    from windows
    left join successor_sets
        on successor_sets.account_id = windows.account_id
        and successor_sets.expiry_month = windows.expiry_month
)

select * from final
