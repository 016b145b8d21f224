{#- The fiscal calendar as expressions over a date (setting fiscal_year_start_month).
    A fiscal year is named by the calendar year in which it ends: with start month 2,
    Feb 2025 - Jan 2026 is FY2026. Every result is a DATE or an integer. -#}

{% macro _months_into_fiscal_year(date_expr) -%}
    ((cast(extract(month from {{ date_expr }}) as integer) - {{ fiscal_year_start_month() }} + 12) % 12)
{%- endmacro %}

{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro fiscal_year_start(date_expr) -%}
    cast({{ dbt.dateadd('month', '-' ~ _months_into_fiscal_year(date_expr), month_start(date_expr)) }} as date)
{%- endmacro %}

{% macro fiscal_quarter_start(date_expr) -%}
    cast({{ dbt.dateadd('month', '-(' ~ _months_into_fiscal_year(date_expr) ~ ' % 3)', month_start(date_expr)) }} as date)
{%- endmacro %}

{% macro fiscal_year(date_expr) -%}
    {#- the calendar year of the fiscal year's last month -#}
    cast(extract(year from {{ dbt.dateadd('month', 11, fiscal_year_start(date_expr)) }}) as integer)
{%- endmacro %}

{% macro fiscal_quarter(date_expr) -%}
    (cast(floor({{ _months_into_fiscal_year(date_expr) }} / 3) as integer) + 1)
{%- endmacro %}
