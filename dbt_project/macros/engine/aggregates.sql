{#- Aggregates whose spelling differs by engine (dispatched: duckdb__ and spark__ each).
    Models call these, never the engine's own function (tests/test_portable_sql.py).

        {{ median('sales_cycle_days') }}
        {{ value_at_min('starting_mrr', 'month') }}   -- starting_mrr of the row with the least month
        {{ value_at_max('ending_mrr', 'month') }}     -- ending_mrr of the row with the greatest month -#}

{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'gtm_warehouse')(expression)) }}
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- Spark's percentile() interpolates like DuckDB's median (the mean of the two middle
    values), and returns a DOUBLE; Spark 3.4's median() would do too, older Sparks lack it. -#}
{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}

{% macro value_at_min(value, ordering) -%}
    {{ return(adapter.dispatch('value_at_min', 'gtm_warehouse')(value, ordering)) }}
{%- endmacro %}

{% macro duckdb__value_at_min(value, ordering) -%}
    arg_min({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__value_at_min(value, ordering) -%}
    min_by({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro value_at_max(value, ordering) -%}
    {{ return(adapter.dispatch('value_at_max', 'gtm_warehouse')(value, ordering)) }}
{%- endmacro %}

{% macro duckdb__value_at_max(value, ordering) -%}
    arg_max({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__value_at_max(value, ordering) -%}
    max_by({{ value }}, {{ ordering }})
{%- endmacro %}
