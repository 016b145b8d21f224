{#- The settings of METRICS.md as SQL expressions. Values come from --vars, set by
    orchestration/settings.py; defaults live in dbt_project.yml. -#}

{% macro as_of_date() -%}
    cast('{{ var("as_of_date", modules.datetime.datetime.utcnow().strftime("%Y-%m-%d")) }}' as date)
{%- endmacro %}

{% macro reporting_currency() -%}
    '{{ var("reporting_currency") }}'
{%- endmacro %}

{% macro fiscal_year_start_month() -%}
    {{ var("fiscal_year_start_month") | int }}
{%- endmacro %}

{% macro funnel_maturity_days() -%}
    {{ var("funnel_maturity_days") | int }}
{%- endmacro %}

{% macro renewal_window_days() -%}
    {{ var("renewal_window_days") | int }}
{%- endmacro %}

{% macro band_threshold(n) -%}
    {{ var("band_t" ~ n) | float }}
{%- endmacro %}
