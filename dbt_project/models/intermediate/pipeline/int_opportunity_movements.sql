{#- One row per (month, opportunity) that counts in a column of the pipeline waterfall
    (docs/metrics.md, "Pipeline history"): the states on P (the last day of the month
    before) and E (the month's snapshot date) are compared; what happened in between is
    not seen. Every opportunity with a state on P has one on E (states are never
    deleted), so the E states drive and the P states join on.

    - open at P: starting = amount at P at P's rate; fx_revaluation = that amount at
      E's rate minus at P's rate; change = amount at E minus amount at P, both at E's
      rate, to increased (> 0) or decreased (< 0);
    - not open at P and (open at E, or closed at E but not at P): added = amount at E;
    - closed at E and not at P: won or lost = amount at E (by is_won at E);
    - open at E: ending = amount at E;
    - slipped: open at P with P < close_date <= E, and open at E with close_date > E
      (amount at E at E's rate).
    Every amount here is in the reporting currency at E's rate unless said. -#}
with dates as (
    select * from {{ ref('int_pipeline_snapshot_dates') }}
    where has_movements
),

states as (
    select * from {{ ref('int_opportunity_snapshot_states') }}
),

paired as (
    select
        dates.month,
        dates.previous_month_end as starting_date,
        dates.snapshot_date as ending_date,
        ending.opportunity_id,
        ending.segment,
        ending.opportunity_type,
        starting.opportunity_id is not null as has_starting_state,
        coalesce(starting.is_open, false) as is_open_start,
        coalesce(starting.is_closed, false) as is_closed_start,
        ending.is_open as is_open_end,
        ending.is_closed as is_closed_end,
        ending.is_won as is_won_end,
        starting.close_date as starting_close_date,
        ending.close_date as ending_close_date,
        starting.amount as starting_amount_original,
        starting.currency as starting_currency,
        starting.amount_reporting as starting_amount_at_start,
        ending.amount_reporting as ending_amount_at_end
    from dates
    inner join states as ending
        on ending.snapshot_date = dates.snapshot_date
    left join states as starting
        on starting.snapshot_date = dates.previous_month_end
        and starting.opportunity_id = ending.opportunity_id
),

starting_keys as (
    select
        starting_currency,
        ending_date
    from paired
    where is_open_start
),

rates_at_end as (
    {{ fx_rates_for('starting_keys', 'starting_currency', 'ending_date') }}
),

valued as (
    select
        paired.*,
        paired.starting_amount_original * rates_at_end.rate_to_reporting as starting_amount_at_end,
        not paired.is_open_start
            and (paired.is_open_end or (paired.is_closed_end and not paired.is_closed_start)) as is_added,
        paired.is_closed_end and not paired.is_closed_start and paired.is_won_end as is_won,
        paired.is_closed_end and not paired.is_closed_start and not paired.is_won_end as is_lost,
        paired.is_open_start
            and paired.starting_close_date > paired.starting_date
            and paired.starting_close_date <= paired.ending_date
            and paired.is_open_end
            and paired.ending_close_date > paired.ending_date as is_slipped
    from paired
    left join rates_at_end
        on paired.is_open_start
        and rates_at_end.currency = paired.starting_currency
        and rates_at_end.rate_date = paired.ending_date
),

movements as (
    select
        -- keys
        month,
        opportunity_id,
        -- attributes (from the state on E)
        segment,
        opportunity_type,
        starting_date,
        ending_date,
        -- flags
        is_open_start,
        is_added,
        is_won,
        is_lost,
        is_open_end,
        is_slipped,
        -- amounts
        case when is_open_start then starting_amount_at_start else 0 end as starting_amount,
        case when is_open_start then starting_amount_at_end - starting_amount_at_start else 0 end
            as fx_revaluation,
        case
            when is_open_start and ending_amount_at_end > starting_amount_at_end
                then ending_amount_at_end - starting_amount_at_end
            else 0
        end as increased_amount,
        case
            when is_open_start and ending_amount_at_end < starting_amount_at_end
                then ending_amount_at_end - starting_amount_at_end
            else 0
        end as decreased_amount,
        case when is_added then ending_amount_at_end else 0 end as added_amount,
        case when is_won then ending_amount_at_end else 0 end as won_amount,
        case when is_lost then ending_amount_at_end else 0 end as lost_amount,
        case when is_open_end then ending_amount_at_end else 0 end as ending_amount,
        case when is_slipped then ending_amount_at_end else 0 end as slipped_amount
    from valued
    where is_open_start or is_added or is_won or is_lost or is_open_end
)

select * from movements
