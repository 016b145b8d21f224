{#- The revenue-recognition rule, written once (doc block finance_revenue_recognition):
    an invoice line with a usable service period [service_start, service_end) is
    recognized evenly per day over it; any other line (no period, only one of the two
    dates, or service_end <= service_start, which the contract forbids) is recognized
    in full on its invoice_date, i.e. over [invoice_date, invoice_date + 1 day).

    Every model and test that recognizes revenue reads its window from here:

        {{ recognition_start() }} as recognition_start,
        {{ recognition_end() }} as recognition_end

    Arguments name the columns (or qualified columns) holding the dates. -#}

{% macro has_service_period(service_start='service_start', service_end='service_end') -%}
    ({{ service_start }} is not null and {{ service_end }} is not null and {{ service_end }} > {{ service_start }})
{%- endmacro %}

{#- The first day recognized. -#}
{% macro recognition_start(service_start='service_start', service_end='service_end', invoice_date='invoice_date') -%}
    case
        when {{ has_service_period(service_start, service_end) }} then {{ service_start }}
        else {{ invoice_date }}
    end
{%- endmacro %}

{#- The day after the last day recognized (exclusive). -#}
{% macro recognition_end(service_start='service_start', service_end='service_end', invoice_date='invoice_date') -%}
    case
        when {{ has_service_period(service_start, service_end) }} then {{ service_end }}
        else cast({{ dbt.dateadd('day', 1, invoice_date) }} as date)
    end
{%- endmacro %}
