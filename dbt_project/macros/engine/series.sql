{#- dbt.generate_series(n) on Spark: the numbers 1..n as `generated_number`.

    dbt's default builds them as a cross join of log2(n) two-row unions, which DuckDB
    runs in no time but Spark plans and runs as a chain of nested-loop joins: the month
    spines (4096 rows, 12 joins) took 15 to 25 s each on a local Spark. Spark's own
    sequence() gives the same rows in one step. dbt dispatches its own macros to the
    root project first, so this replaces dbt's default on Spark only; DuckDB keeps it. -#}
{% macro spark__generate_series(upper_bound) -%}
    select cast(generated_number as bigint) as generated_number
    from (select explode(sequence(1, {{ upper_bound }})) as generated_number) as series
{%- endmacro %}
