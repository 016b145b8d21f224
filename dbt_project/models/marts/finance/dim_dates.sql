{#- The public fiscal calendar: one row per day from the first date of the finance
    data to as_of_date (built in int_calendar_days). -#}
with calendar as (
    select * from {{ ref('int_calendar_days') }}
)

select * from calendar
