{#- The fiscal calendar as expressions over a date (setting fiscal_year_start_month).
    A fiscal year is named by the calendar year in which it ends: with start month 2,
    Feb 2025 - Jan 2026 is FY2026. Quarters are numbered 1-4 within the fiscal year,
    Q1 starting in the fiscal year's first month. Every result is a DATE, an integer
    or (the *_label macros) a string. The date expression may be a DATE or a TIMESTAMP
    (UTC); wrap anything else in a cast. -#}

{% macro _months_into_fiscal_year(date_expr) -%}
    {#- 0 for the fiscal year's first month .. 11 for its last (mod(), not %, for portability) -#}
    mod(cast(extract(month from {{ date_expr }}) as integer) - {{ fiscal_year_start_month() }} + 12, 12)
{%- endmacro %}

{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro month_end(date_expr) -%}
    {#- the last day of the calendar month -#}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start(date_expr))) }} as date)
{%- endmacro %}

{% macro fiscal_year_start(date_expr) -%}
    cast({{ dbt.dateadd('month', '-' ~ _months_into_fiscal_year(date_expr), month_start(date_expr)) }} as date)
{%- endmacro %}

{% macro fiscal_year_end(date_expr) -%}
    {#- the last day of the fiscal year -#}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 12, fiscal_year_start(date_expr))) }} as date)
{%- endmacro %}

{% macro fiscal_quarter_start(date_expr) -%}
    cast({{ dbt.dateadd('month', '-mod(' ~ _months_into_fiscal_year(date_expr) ~ ', 3)', month_start(date_expr)) }} as date)
{%- endmacro %}

{% macro fiscal_quarter_end(date_expr) -%}
    {#- the last day of the fiscal quarter -#}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, fiscal_quarter_start(date_expr))) }} as date)
{%- endmacro %}

{% macro fiscal_year(date_expr) -%}
    {#- the calendar year of the fiscal year's last month -#}
    cast(extract(year from {{ dbt.dateadd('month', 11, fiscal_year_start(date_expr)) }}) as integer)
{%- endmacro %}

{% macro fiscal_quarter(date_expr) -%}
    (cast(floor({{ _months_into_fiscal_year(date_expr) }} / 3) as integer) + 1)
{%- endmacro %}

{% macro fiscal_year_label(date_expr) -%}
    {#- `FY2026` -#}
    {{ dbt.concat(["'FY'", "cast(" ~ fiscal_year(date_expr) ~ " as " ~ dbt.type_string() ~ ")"]) }}
{%- endmacro %}

{% macro fiscal_quarter_label(date_expr) -%}
    {#- `FY2026-Q3`: the fiscal year holding the quarter, then the quarter's number in it -#}
    {{ dbt.concat([
        fiscal_year_label(date_expr),
        "'-Q'",
        "cast(" ~ fiscal_quarter(date_expr) ~ " as " ~ dbt.type_string() ~ ")",
    ]) }}
{%- endmacro %}

{% macro month_label(date_expr) -%}
    {#- `2026-09`: the calendar month, year first -#}
    {{ dbt.concat([
        "cast(cast(extract(year from " ~ date_expr ~ ") as integer) as " ~ dbt.type_string() ~ ")",
        "'-'",
        dbt.right(dbt.concat(["'0'", "cast(cast(extract(month from " ~ date_expr ~ ") as integer) as " ~ dbt.type_string() ~ ")"]), 2),
    ]) }}
{%- endmacro %}
