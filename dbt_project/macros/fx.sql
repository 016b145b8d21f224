{#- Currency conversion at the latest rate on or before a date (METRICS.md).

    Use in a model's from clause, then multiply by `<alias>.rate_to_reporting`:

        from {{ ref('stg_finance__spend') }} as spend
        {{ fx_rate_join('spend.currency', 'spend.spend_date', alias='fx') }}
        ... spend.amount * fx.rate_to_reporting as amount_reporting

    An amount without a rate on or before its date gets a null rate; the
    assert_every_amount_converts test turns that into a blocking failure that names
    the currency and the earliest date that needs a rate. -#}
{% macro fx_rate_join(currency_column, date_column, alias='fx') -%}
    left join {{ ref('int_fx_rates_ranged') }} as {{ alias }}
        on {{ alias }}.currency = {{ currency_column }}
        and {{ date_column }} >= {{ alias }}.valid_from
        and ({{ alias }}.valid_until is null or {{ date_column }} < {{ alias }}.valid_until)
{%- endmacro %}
