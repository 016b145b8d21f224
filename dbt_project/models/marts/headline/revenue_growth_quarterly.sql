{#- The fiscal quarters of marts.commercial_ratio with their revenue growth annualised: scaled
    from the quarter's months to twelve (x 4), as marts.commercial_ratio annualises a
    quarter's growth for its ratio, so that it can be set beside the quarter's sales &
    marketing expense. The factor is read from the period's length, not restated. -#}

with quarters as (
    select * from {{ ref('commercial_ratio') }}
    where period_grain = 'fiscal_quarter'
),

annualised as (
    select
        period_start,
        period_label,
        {# The factor first (12 / 3 = 4 exactly), so the product is exactly 4 x growth. #}
        revenue_growth * (cast(12 as double) / ({{ dbt.datediff('period_start', 'period_end', 'month') }} + 1))
            as annualised_revenue_growth
    from quarters
),

final as (
    select
        -- dates
        cast(period_start as date) as period_start,
        -- labels
        period_label,
        -- amounts
        cast(annualised_revenue_growth as double) as annualised_revenue_growth
    from annualised
)

select * from final
