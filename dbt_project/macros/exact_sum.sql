{#- Sums of amounts that are the same to the last bit on every run (docs/metrics.md,
    "Reproducible to the last bit").

    A floating-point sum depends on the order of its terms, and a parallel aggregation
    adds them in a different order on every run: the same files published twice gave
    marts that differed in the last digits. exact_sum rounds each term to a DECIMAL with
    12 decimals (a deterministic rounding of each row) and adds those exactly, as
    integers, whatever the order; the sum is cast back to DOUBLE once, at the end.

    A group holding a term that is not a number under 1e15 in magnitude (1e308, infinity,
    NaN: absurd amounts the quality gate catches once they reach a mart) is summed as
    floating point instead, so it still gives infinity or NaN rather than a cast error.

    Every sum of a DOUBLE in the models goes through here (counts are integers: exact
    already):

        {{ exact_sum('amount_reporting') }} as spend,
        {{ exact_avg('case when is_won then amount_reporting end') }} as avg_won_amount

    Dispatched, so another engine can bring its own exact type. -#}

{% macro exact_sum(expression) -%}
    {{ return(adapter.dispatch('exact_sum')(expression)) }}
{%- endmacro %}

{% macro default__exact_sum(expression) -%}
    case
        when max(abs({{ expression }})) < 1e15
            then cast(sum(cast(
                case when abs({{ expression }}) < 1e15 then {{ expression }} end
                as decimal(38, 12)
            )) as double)
        else sum({{ expression }})
    end
{%- endmacro %}

{#- The mean of the non-null values (null when there are none), from exact_sum. -#}
{% macro exact_avg(expression) -%}
    ({{ exact_sum(expression) }} / nullif(count({{ expression }}), 0))
{%- endmacro %}
