{#- A model's grain: `columns` identify every row, present and unique, as one test per
    model: a `unique` beside a `not_null` per grain column made 65 more dbt nodes, and
    one grouping answers both (the measured saving is small, see bench/README.md).
    Fails with one row per problem: with check_nulls, each grain column holding nulls,
    with how many; then each key held by more than one row, with how many (a null
    groups like any value). One grouping of the model gives both. check_nulls=false only
    where a source suite checks the same nulls on raw (tests/support/check_division.py).
    A failure's rows name the keys and columns (the refresh quotes them). -#}
{% test grain(model, columns, check_nulls=true) %}
{{ config(store_failures=store_failures_in_build()) }}

with keys as (
    select
    {%- for column in columns %}
        {{ column }},
    {%- endfor %}
        count(*) as key_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
),

problems as (
    select
        1 as problem_order,
        'duplicate {{ "(" ~ columns | join(", ") ~ ")" if columns | length > 1 else columns[0] }} = '
        {%- if columns | length > 1 %} || '('{% endif %}
        {%- for column in columns %}
        || coalesce(cast({{ column }} as {{ dbt.type_string() }}), 'null')
        {%- if not loop.last %} || ', '{% endif %}
        {%- endfor %}
        {%- if columns | length > 1 %} || ')'{% endif %} as problem,
        key_rows as row_count
    from keys
    where key_rows > 1
{%- if check_nulls %}
    {%- for column in columns %}
    union all
    select
        0 as problem_order,
        'null {{ column }}' as problem,
        cast(sum(key_rows) as {{ dbt.type_bigint() }}) as row_count
    from keys
    where {{ column }} is null
    {%- endfor %}
{%- endif %}
)

select problem, row_count
from problems
where row_count > 0
order by problem_order, row_count desc, problem

{% endtest %}
