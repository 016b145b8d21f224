{#- Currency conversion at the latest rate on or before a date (docs/metrics.md).

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

{#- The rates of the distinct (currency, date) pairs of a relation or CTE, as a query
    with columns currency, rate_date, rate_to_reporting (null where no rate applies).

    For big tables, resolve the rates once per distinct pair and join them back on
    equality: a range join of millions of rows against the rate ranges is slow, the
    distinct pairs are few (currencies x days).

        rates as ({{ fx_rates_for('invoice_lines', 'currency', 'invoice_date') }}),
        ...
        left join rates
            on rates.currency = invoice_lines.currency
            and rates.rate_date = invoice_lines.invoice_date -#}
{% macro fx_rates_for(relation, currency_column, date_column) -%}
    select
        fx_keys.currency,
        fx_keys.rate_date,
        fx_rate.rate_to_reporting
    from (
        select distinct
            {{ currency_column }} as currency,
            {{ date_column }} as rate_date
        from {{ relation }}
    ) as fx_keys
    {{ fx_rate_join('fx_keys.currency', 'fx_keys.rate_date', alias='fx_rate') }}
{%- endmacro %}
