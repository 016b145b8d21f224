{#- Fails for every combination of `columns` that occurs more than once: the grain
    test for models keyed by several columns (dbt_utils is not available offline). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
