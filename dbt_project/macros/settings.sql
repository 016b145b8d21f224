{#- The settings of docs/metrics.md as SQL expressions. Values come from --vars, set by
    orchestration/settings.py; defaults live in dbt_project.yml. -#}

{#- as_of_date: a --vars as_of_date wins (dbt unit tests, the metric tests, an ad-hoc
    run); the refresh sets GTM_AS_OF_DATE instead (Settings.dbt_env), because a var that
    changes every night makes dbt re-parse the whole project every night, and a changed
    environment variable only the files that read it. Neither set: today (UTC). -#}
{% macro as_of_date() -%}
    cast('{{ var("as_of_date", none) or env_var("GTM_AS_OF_DATE", modules.datetime.datetime.utcnow().strftime("%Y-%m-%d")) }}' as date)
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
