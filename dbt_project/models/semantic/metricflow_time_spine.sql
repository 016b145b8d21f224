{#- MetricFlow's time spine: one row per day from meta.first_day up to (not including)
    meta.end_day, the bounds' one home (its yml). It is not published: `gtm metrics`
    (orchestration/lib/metrics_layer.py) builds the same days in memory from the same
    meta, next to the read-only published file. dbt.date_spine keeps it portable. -#}
{%- set meta = config.get('meta') or {} -%}

select cast(date_day as date) as date_day
from (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ meta.get('first_day') ~ "' as date)",
        "cast('" ~ meta.get('end_day') ~ "' as date)"
    ) }}
) as days
where date_day < cast('{{ meta.get("end_day") }}' as date)
