{#- The single numbers of the report's first screen, one row per metric, each with the
    sums it is computed from and the window it covers (docs/metrics.md):
    - arr: 12 x ending_mrr of the latest month of mrr_movements;
    - arr_growth: ending_mrr of that month / ending_mrr twelve months earlier - 1;
    - logo_renewal_rate, gross_renewal_rate, net_renewal_rate: the renewals of the
      twelve latest mature expiry months summed, each rate recomputed from the sums;
    - commercial_ratio_ttm_change: the latest TTM commercial ratio minus the TTM ratio
      of the twelve months ending a year earlier.
    Every metric has its row; a metric the data cannot give yet has a null value. -#}

with mrr as (
    select * from {{ ref('mrr_movements') }}
),

renewals as (
    select * from {{ ref('renewals') }}
),

ttm_ratios as (
    select * from {{ ref('commercial_ratio') }}
    where period_grain = 'ttm'
),

latest_mrr as (
    select * from mrr
    where month = (select max(month) from mrr)
),

arr as (
    select
        'arr' as metric,
        12 * max(ending_mrr) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        cast(null as double) as compared_value,
        max(month) as window_start,
        max(month) as window_end
    from latest_mrr
),

arr_growth as (
    select
        'arr_growth' as metric,
        case when max(year_ago.ending_mrr) <> 0
            then max(latest.ending_mrr) / max(year_ago.ending_mrr) - 1 end as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        12 * max(year_ago.ending_mrr) as compared_value,
        max(year_ago.month) as window_start,
        max(latest.month) as window_end
    from latest_mrr as latest
    left join mrr as year_ago
        on year_ago.month = cast({{ dbt.dateadd('month', -12, 'latest.month') }} as date)
),

renewal_window as (
    {{ trailing_window('renewals', 'expiry_month', 12, where='is_mature') }}
),

renewals_in_window as (
    {{ rows_in_window('renewals', 'expiry_month', window='renewal_window') }}
),

trailing_renewal_months as (
    select * from renewals_in_window where is_mature
),

trailing_renewals as (
    select
        coalesce(sum(accounts_renewed), 0) as accounts_renewed,
        coalesce(sum(accounts_expiring), 0) as accounts_expiring,
        coalesce({{ exact_sum('renewed_arr') }}, 0) as renewed_arr,
        coalesce({{ exact_sum('successor_arr') }}, 0) as successor_arr,
        coalesce({{ exact_sum('expiring_arr') }}, 0) as expiring_arr,
        min(expiry_month) as window_start,
        max(expiry_month) as window_end
    from trailing_renewal_months
),

renewal_rates as (
    select 'logo_renewal_rate' as metric, accounts_renewed as numerator, accounts_expiring as denominator,
        window_start, window_end
    from trailing_renewals
    union all
    select 'gross_renewal_rate', renewed_arr, expiring_arr, window_start, window_end
    from trailing_renewals
    union all
    select 'net_renewal_rate', successor_arr, expiring_arr, window_start, window_end
    from trailing_renewals
),

renewal_metrics as (
    select
        metric,
        case when denominator <> 0 then cast(numerator as double) / denominator end as value,
        numerator,
        denominator,
        cast(null as double) as compared_value,
        window_start,
        window_end
    from renewal_rates
),

latest_ttm_window as (
    {{ trailing_window('ttm_ratios', 'period_start', 1, where='commercial_ratio is not null') }}
),

latest_ttm as (
    select ttm_ratios.*
    from ttm_ratios
    inner join latest_ttm_window
        on ttm_ratios.period_start = latest_ttm_window.last_period
),

commercial_ratio_change as (
    select
        'commercial_ratio_ttm_change' as metric,
        max(latest.commercial_ratio) - max(year_ago.commercial_ratio) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        max(year_ago.commercial_ratio) as compared_value,
        max(latest.period_start) as window_start,
        max(latest.period_end) as window_end
    from latest_ttm as latest
    left join ttm_ratios as year_ago
        on year_ago.period_start = cast({{ dbt.dateadd('month', -12, 'latest.period_start') }} as date)
),

unioned as (
    select metric, value, numerator, denominator, compared_value, window_start, window_end from arr
    union all
    select metric, value, numerator, denominator, compared_value, window_start, window_end from arr_growth
    union all
    select metric, value, numerator, denominator, compared_value, window_start, window_end from renewal_metrics
    union all
    select metric, value, numerator, denominator, compared_value, window_start, window_end from commercial_ratio_change
),

final as (
    select
        -- ids
        metric,
        -- values
        cast(value as double) as value,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(compared_value as double) as compared_value,
        -- dates
        cast(window_start as date) as window_start,
        cast(window_end as date) as window_end
    from unioned
)

select * from final
