{#- The trailing window of the headline marts (docs/metrics.md): "the N latest periods"
    (mature cohort months, complete fiscal quarters, close months, ...) in one place.

    trailing_window(relation, period_column, periods, where) is a query of one row:
      first_period, last_period  the earliest and the latest of the `periods` latest
                                 distinct values of period_column among the rows of
                                 relation that meet `where` (null when none does);
      period_count               how many there are: `periods`, fewer when the data holds
                                 fewer, 0 when none.
    Every value of period_column between first_period and last_period that meets `where`
    is one of them (they are the latest), so rows_in_window() selects exactly the
    window's rows, with any period between them that does not meet `where`:

        trailing_window as (
            {{ trailing_window('lead_funnel', 'cohort_month', 12, where='is_mature') }}
        ),

        in_window as (
            {{ rows_in_window('lead_funnel', 'cohort_month') }}
        ),

    relation is an import CTE's name. -#}

{% macro trailing_window(relation, period_column, periods, where='1 = 1') -%}
    select
        min({{ period_column }}) as first_period,
        max({{ period_column }}) as last_period,
        count(*) as period_count
    from (
        select distinct {{ period_column }}
        from {{ relation }}
        where {{ where }}
        order by {{ period_column }} desc
        limit {{ periods | int }}
    ) as latest_periods
{%- endmacro %}

{#- The rows of relation whose period_column lies in the window (a CTE made by
    trailing_window()). -#}
{% macro rows_in_window(relation, period_column, window='trailing_window') -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join {{ window }}
        on {{ relation }}.{{ period_column }} between {{ window }}.first_period and {{ window }}.last_period
{%- endmacro %}

{#- The last day of the period of `months` months starting on period_start (a fiscal
    quarter: 3), as a DATE: a period is complete by a date when this is on or before it. -#}
{% macro period_end(period_start, months) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', months, period_start)) }} as date)
{%- endmacro %}
