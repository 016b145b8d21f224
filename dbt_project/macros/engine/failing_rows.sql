{#- Whether a test that quotes its failing rows stores them during the build (dbt's
    store_failures): on Spark only, whose catalog ends with the build, so the rows are
    copied out (orchestration/lib/engine/spark_failures.py). On DuckDB a passing test then
    writes nothing; the refresh keeps a failed test's rows after the build
    (orchestration/lib/quality/dbt_tests.py store_failing_rows). None, not false, on
    DuckDB: dbt's `--store-failures` flag can still ask for every test's rows. -#}
{% macro store_failures_in_build() -%}
    {{ return(true if target.type == 'spark' else none) }}
{%- endmacro %}
