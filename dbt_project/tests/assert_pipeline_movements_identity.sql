{#- The pipeline waterfall identity of docs/metrics.md; every returned row is a failure.

    1. starting_amount + fx_revaluation + added_amount + increased_amount +
       decreased_amount - won_amount - lost_amount = ending_amount, per opportunity and
       month (int_opportunity_movements) and per row of marts.pipeline_movements;
    2. ending_amount = next month's starting_amount, per month over all segments and
       types (an opportunity may change segment or type between months), and the
       counts the same way: starting + added - won - lost = ending opportunities, and
       ending = next month's starting opportunities.
    Amounts are doubles summed in any order: a tolerance of 1e-6 plus 1e-12 of the
    amounts compared. -#}
{{ config(store_failures=store_failures_in_build()) }}

{%- set float_tolerance = 0.000001 -%}
{%- set relative_tolerance = 0.000000000001 -%}

with opportunity_movements as (
    select * from {{ ref('int_opportunity_movements') }}
),

movements as (
    select * from {{ ref('pipeline_movements') }}
),

opportunity_failures as (
    select
        'opportunity identity' as failure,
        opportunity_id,
        month,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as opportunity_type,
        starting_amount + fx_revaluation + added_amount + increased_amount + decreased_amount
            - won_amount - lost_amount - ending_amount as difference
    from opportunity_movements
    where abs(starting_amount + fx_revaluation + added_amount + increased_amount + decreased_amount
            - won_amount - lost_amount - ending_amount)
        > {{ float_tolerance }} + {{ relative_tolerance }} * (abs(starting_amount) + abs(ending_amount))
),

row_failures as (
    select
        'row identity' as failure,
        null as opportunity_id,
        month,
        segment,
        opportunity_type,
        starting_amount + fx_revaluation + added_amount + increased_amount + decreased_amount
            - won_amount - lost_amount - ending_amount as difference
    from movements
    where abs(starting_amount + fx_revaluation + added_amount + increased_amount + decreased_amount
            - won_amount - lost_amount - ending_amount)
        > {{ float_tolerance }} + {{ relative_tolerance }} * (abs(starting_amount) + abs(ending_amount))
        or starting_opportunities + added_opportunities - won_opportunities - lost_opportunities
            <> ending_opportunities
),

months as (
    select
        month,
        sum(starting_amount) as starting_amount,
        sum(ending_amount) as ending_amount,
        sum(starting_opportunities) as starting_opportunities,
        sum(ending_opportunities) as ending_opportunities
    from movements
    group by month
),

chained as (
    select
        month,
        ending_amount,
        ending_opportunities,
        lead(month) over (order by month) as next_month,
        lead(starting_amount) over (order by month) as next_starting_amount,
        lead(starting_opportunities) over (order by month) as next_starting_opportunities
    from months
),

chain_failures as (
    select
        'ending <> next month starting' as failure,
        null as opportunity_id,
        month,
        null as segment,
        null as opportunity_type,
        next_starting_amount - ending_amount as difference
    from chained
    where next_month is not null
        and (abs(next_starting_amount - ending_amount)
                > {{ float_tolerance }} + {{ relative_tolerance }} * abs(ending_amount)
            or next_starting_opportunities <> ending_opportunities)
)

select * from opportunity_failures
union all
select * from row_failures
union all
select * from chain_failures
