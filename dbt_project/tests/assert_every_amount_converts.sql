{#- Blocking data-quality check (docs/metrics.md, "Dates, as_of_date and currency"): every
    amount dated on or before as_of_date must have a rate on or before its own date.
    Returns one row per (source entity, currency) that lacks one, naming the earliest
    such date; amounts dated after as_of_date are not checked.
    Each amount's own date: spend.spend_date, invoice_lines.invoice_date,
    subscriptions.start_date, opportunities.close_date when closed by as_of_date
    (is_closed and close_date <= as_of_date), else the UTC date of created_at
    (opportunities created after as_of_date do not exist yet and are not checked);
    each version an opportunities extract dated on or before as_of_date holds (the
    pipeline history), its extract date (the file name's date, else as_of_date), when
    created by then: every later valuation of it has a rate when this one does. -#}
{{ config(store_failures=store_failures_in_build()) }}

with spend_amounts as (
    select
        'finance__spend' as source_entity,
        spend_id as record_id,
        currency,
        spend_date as amount_date
    from {{ ref('stg_finance__spend') }}
),

invoice_line_amounts as (
    select
        'billing__invoice_lines' as source_entity,
        invoice_line_id as record_id,
        currency,
        invoice_date as amount_date
    from {{ ref('stg_billing__invoice_lines') }}
),

subscription_amounts as (
    select
        'billing__subscriptions' as source_entity,
        subscription_id as record_id,
        currency,
        start_date as amount_date
    from {{ ref('stg_billing__subscriptions') }}
),

opportunity_amounts as (
    select
        'crm__opportunities' as source_entity,
        opportunity_id as record_id,
        currency,
        case
            when is_closed and close_date <= {{ as_of_date() }} then close_date
            else cast(created_at as date)
        end as amount_date
    from {{ ref('stg_crm__opportunities') }}
    {# an opportunity exists from created_at: one created after as_of_date does not
        count yet, even with a (data-error) close_date before it #}
    where cast(created_at as date) <= {{ as_of_date() }}
),

snapshot_amounts as (
    select
        'crm__opportunities_snapshots' as source_entity,
        opportunity_id as record_id,
        currency,
        coalesce(file_extract_date, {{ as_of_date() }}) as amount_date
    from {{ ref('stg_crm__opportunities_snapshots') }}
    where cast(created_at as date) <= coalesce(file_extract_date, {{ as_of_date() }})
),

all_amounts as (
    select * from spend_amounts
    union all
    select * from invoice_line_amounts
    union all
    select * from subscription_amounts
    union all
    select * from opportunity_amounts
    union all
    select * from snapshot_amounts
),

amounts as (
    select *
    from all_amounts
    where amount_date <= {{ as_of_date() }}
),

rates as (
    {{ fx_rates_for('amounts', 'currency', 'amount_date') }}
),

unconverted as (
    select
        amounts.source_entity,
        amounts.record_id,
        amounts.currency,
        amounts.amount_date
    from amounts
    left join rates
        on rates.currency = amounts.currency
        and rates.rate_date = amounts.amount_date
    where rates.rate_to_reporting is null
),

failures as (
    select
        source_entity,
        currency,
        min(amount_date) as earliest_date_without_rate,
        count(*) as amounts_without_rate
    from unconverted
    group by source_entity, currency
),

examples as (
    select
        failures.source_entity,
        failures.currency,
        min(unconverted.record_id) as example_record_id
    from failures
    inner join unconverted
        on unconverted.source_entity = failures.source_entity
        and (unconverted.currency = failures.currency
            or (unconverted.currency is null and failures.currency is null))
        and unconverted.amount_date = failures.earliest_date_without_rate
    group by failures.source_entity, failures.currency
),

described as (
    select
        failures.source_entity,
        failures.currency,
        failures.earliest_date_without_rate,
        failures.amounts_without_rate,
        examples.example_record_id,
        {{ dbt.concat([
            "'no fx rate for '",
            "coalesce(failures.currency, '(null currency)')",
            "' on or before '",
            "cast(failures.earliest_date_without_rate as " ~ dbt.type_string() ~ ")",
            "' ('",
            "failures.source_entity",
            "', '",
            "cast(failures.amounts_without_rate as " ~ dbt.type_string() ~ ")",
            "' amount(s) dated on or before as_of_date lack a rate)'",
        ]) }} as failure_message
    from failures
    inner join examples
        on examples.source_entity = failures.source_entity
        and (examples.currency = failures.currency
            or (examples.currency is null and failures.currency is null))
)

select * from described
