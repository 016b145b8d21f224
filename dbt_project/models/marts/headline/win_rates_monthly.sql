{#- Win rate by month of close (docs/metrics.md, "Win rates"), for every close month of
    marts.win_rates and every opportunity type plus all types together (`(all types)`),
    summed over segments: the month's rate, and the rate over the three close months
    ending with it (the month and the two close months before it in the table), because a
    single month of one type is often a handful of deals. A type without deals in a month
    counts 0 won and 0 lost there. -#}

with win_rates as (
    select * from {{ ref('win_rates') }}
),

close_months as (
    select
        close_month,
        row_number() over (order by close_month) as month_number
    from (select distinct close_month from win_rates)
),

types as (
    select distinct opportunity_type from win_rates
    union all
    select '(all types)'
),

by_type as (
    select
        coalesce(opportunity_type, '(all types)') as opportunity_type,
        close_month,
        sum(won) as won,
        sum(lost) as lost
    from win_rates
    group by grouping sets ((opportunity_type, close_month), (close_month))
),

grid as (
    select
        types.opportunity_type,
        close_months.close_month,
        close_months.month_number,
        coalesce(by_type.won, 0) as won,
        coalesce(by_type.lost, 0) as lost
    from types
    cross join close_months
    left join by_type
        on by_type.opportunity_type = types.opportunity_type
        and by_type.close_month = close_months.close_month
),

rolled as (
    select
        *,
        sum(won) over three_months as won_3_months,
        sum(won + lost) over three_months as closed_3_months
    from grid
    window three_months as (
        partition by opportunity_type order by month_number rows between 2 preceding and current row
    )
),

final as (
    select
        -- ids
        opportunity_type,
        cast(close_month as date) as close_month,
        -- counts
        cast(won as bigint) as won,
        cast(lost as bigint) as lost,
        cast(won_3_months as bigint) as won_3_months,
        cast(closed_3_months as bigint) as closed_3_months,
        -- rates
        case when won + lost > 0 then cast(won as double) / (won + lost) end as win_rate,
        case when closed_3_months > 0 then cast(won_3_months as double) / closed_3_months end
            as win_rate_3_months
    from rolled
)

select * from final
