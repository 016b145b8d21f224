{#- The dbt sources on each engine (run by on-run-start in dbt_project.yml).

    DuckDB: the ingest step writes raw.<entity> into the work database itself; nothing
    to do. Spark: the ingest step writes each raw table as Parquet to
    $GTM_PARQUET_DIR/<schema>/<identifier>/ (orchestration/lib/engine/parquet_export.py);
    each source is (re)registered as an external Parquet table over its folder, so
    `source()` resolves to the same `raw.<identifier>` on both engines. -#}
{% macro register_sources() -%}
    {{ return(adapter.dispatch('register_sources', 'gtm_warehouse')()) }}
{%- endmacro %}

{% macro default__register_sources() -%}
{%- endmacro %}

{% macro spark__register_sources() -%}
    {%- if execute -%}
        {%- set root = env_var('GTM_PARQUET_DIR', '../warehouse/parquet') -%}
        {%- set schemas = graph.sources.values() | map(attribute='schema') | unique | list -%}
        {%- for schema in schemas -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for source in graph.sources.values() -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ ' using parquet location '
                ~ "'" ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
