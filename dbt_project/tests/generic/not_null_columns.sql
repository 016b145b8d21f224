{#- Fails with one row per listed column that holds nulls, with how many: the
    not_null tests of a model's columns as one query over the model. Each dbt test is a
    node with about 20 ms of dbt's own work, so one test per model instead of one per
    column took 126 nodes and about 3 s off every build (issue 8). Grain columns are
    not listed: the model's `grain` test checks them (grain.sql). A failure's rows
    name the columns (the refresh quotes them). -#}
{% test not_null_columns(model, columns) %}
{{ config(store_failures=store_failures_in_build()) }}

with null_counts as (
    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as null_rows_{{ loop.index }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

{% for column in columns -%}
select
    '{{ column }}' as column_name,
    null_rows_{{ loop.index }} as null_rows
from null_counts
where null_rows_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}

{% endtest %}
