{#- The bands of the commercial ratio (docs/metrics.md), one row per band, at the thresholds
    this publication was built with (settings band_thresholds, passed as the dbt vars
    band_t1..band_t3). marts.commercial_ratio gives each period its band with the same
    macros; this table lets a reader draw the bands without knowing the settings. -#}

with bands as (
    select 1 as band_order, 'unsustainable' as band,
        cast(null as double) as lower_bound, {{ band_threshold(1) }} as upper_bound
    union all
    select 2, 'balanced', {{ band_threshold(1) }}, {{ band_threshold(2) }}
    union all
    select 3, 'efficient', {{ band_threshold(2) }}, {{ band_threshold(3) }}
    union all
    select 4, 'under_invested', {{ band_threshold(3) }}, cast(null as double)
),

final as (
    select
        -- ids
        band,
        cast(band_order as bigint) as band_order,
        -- bounds
        cast(lower_bound as double) as lower_bound,
        cast(upper_bound as double) as upper_bound
    from bands
)

select * from final
