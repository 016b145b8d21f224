{#- Contract renewals by month of expiry (docs/metrics.md): one row for each month up to the
    month of as_of_date in which at least one subscription expires, summed over the
    accounts of int_account_expiries_matched. -#}
{%- set window_days = renewal_window_days() | trim | int -%}

with expiries as (
    select * from {{ ref('int_account_expiries_matched') }}
),

monthly as (
    select
        expiry_month,
        count(*) as accounts_expiring,
        count(case when is_renewed then 1 end) as accounts_renewed,
        {{ exact_sum('expiring_arr') }} as expiring_arr,
        {{ exact_sum('renewed_arr') }} as renewed_arr,
        {{ exact_sum('successor_arr') }} as successor_arr
    from expiries
    group by expiry_month
),

final as (
    select
        -- dates
        expiry_month,
        -- counts
        accounts_expiring,
        accounts_renewed,
        case when accounts_expiring > 0 then cast(accounts_renewed as double) / accounts_expiring end
            as logo_renewal_rate,
        -- amounts
        expiring_arr,
        renewed_arr,
        successor_arr,
        -- rates
        case when expiring_arr > 0 then renewed_arr / expiring_arr end as gross_renewal_rate,
        case when expiring_arr > 0 then successor_arr / expiring_arr end as net_renewal_rate,
        -- flags
        cast({{ dbt.dateadd('day', window_days, dbt.last_day('expiry_month', 'month')) }} as date)
            <= {{ as_of_date() }} as is_mature
    from monthly
)

select * from final
