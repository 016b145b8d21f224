{#- The snapshot dates of the pipeline history (docs/metrics.md): the last day of every
    month from the month of the earliest extract date through the month before
    as_of_date's, then as_of_date itself; only dates on or after the earliest extract
    date (extract dates after as_of_date are ignored). Each row carries its month and the
    month's P, the last day of the month before; has_movements marks the months of the
    waterfall (P on or after the earliest extract date). Empty without extracts.
    Built backwards from the month of as_of_date over a fixed series of 4096 months. -#}
with bounds as (
    select min(extract_date) as first_extract_date
    from {{ ref('int_opportunity_extract_states') }}
),

as_of_month as (
    select {{ month_start(as_of_date()) }} as month
),

offsets as (
    {{ dbt.generate_series(4096) }}
),

months as (
    select
        cast({{ dbt.dateadd('month', '-(offsets.generated_number - 1)', 'as_of_month.month') }} as date)
            as month
    from offsets
    cross join as_of_month
),

dated as (
    select
        months.month,
        case
            when months.month = as_of_month.month then {{ as_of_date() }}
            else cast({{ dbt.last_day('months.month', 'month') }} as date)
        end as snapshot_date,
        cast({{ dbt.dateadd('day', -1, 'months.month') }} as date) as previous_month_end,
        bounds.first_extract_date
    from months
    cross join as_of_month
    cross join bounds
    where months.month >= {{ month_start('bounds.first_extract_date') }}
),

final as (
    select
        month,
        snapshot_date,
        previous_month_end,
        previous_month_end >= first_extract_date as has_movements
    from dated
    where snapshot_date >= first_extract_date
)

select * from final
