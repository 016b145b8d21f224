{#- Model contracts name their column types as DuckDB (and docs/metrics.md) spell them:
    varchar, bigint, double, date, boolean, integer, timestamp. Spark knows all but
    varchar, which it only accepts with a length; its string is the same type. dbt checks
    a contract by casting nulls to the declared types (get_empty_schema_sql), so on Spark
    the declared types are spelled in Spark's words first. DuckDB is untouched. -#}
{% macro spark_type(data_type) -%}
    {%- set spelled = {'varchar': 'string', 'text': 'string'} -%}
    {{- spelled.get(data_type | lower | trim, data_type) -}}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set column = {} -%}
        {%- do column.update(columns[name]) -%}
        {%- do column.update({'data_type': spark_type(columns[name]['data_type'])}) -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
