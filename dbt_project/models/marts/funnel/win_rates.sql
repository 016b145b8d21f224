{#- Win rates of opportunities closed by as_of_date, by (close_month, segment,
    opportunity_type): see docs/metrics.md "Win rates". -#}
with closed_opportunities as (
    select * from {{ ref('int_opportunities_staged') }}
    where is_closed
),

aggregated as (
    select
        close_month,
        segment,
        opportunity_type,
        count(case when is_won then 1 end) as won,
        count(case when not is_won then 1 end) as lost,
        {{ exact_sum('case when is_won then amount_reporting else 0 end') }} as won_amount,
        {{ exact_avg('case when is_won then amount_reporting end') }} as avg_won_amount,
        percentile_cont(0.5) within group (
            order by case when is_won then sales_cycle_days end
        ) as median_sales_cycle_days
    from closed_opportunities
    group by close_month, segment, opportunity_type
),

final as (
    select
        -- grain
        close_month,
        segment,
        opportunity_type,
        -- counts
        won,
        lost,
        -- rates
        cast(won as double) / nullif(won + lost, 0) as win_rate,
        -- amounts
        won_amount,
        avg_won_amount,
        -- durations
        median_sales_cycle_days
    from aggregated
)

select * from final
