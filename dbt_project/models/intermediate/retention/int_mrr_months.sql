{#- The month spine of the MRR models: one row per calendar month from the month of the
    earliest existing subscription's start_date to the month of as_of_date, with the
    month's measuring day d(M): its last day, or as_of_date for the month that holds
    it. Built backwards from the month of as_of_date over a fixed series of 4096
    months (341 years), so no compile-time query is needed. -#}
with as_of_month as (
    select {{ month_start(as_of_date()) }} as month
),

first_month as (
    select min({{ month_start('start_date') }}) as month
    from {{ ref('int_subscriptions_converted') }}
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

spine as (
    select
        months.month,
        case
            when months.month = as_of_month.month then {{ as_of_date() }}
            else {{ dbt.last_day('months.month', 'month') }}
        end as measuring_date,
        months.month = as_of_month.month as is_as_of_month
    from months
    cross join as_of_month
    inner join first_month
        on months.month >= first_month.month
)

select * from spine
