{#- One row per (opportunity, extract date) on which an extract holds the opportunity:
    the state that extract date gives it (docs/metrics.md, "Pipeline history").

    - The extract date is the ISO date the file name begins with, else as_of_date;
      extracts dated after as_of_date are ignored.
    - Two files on one date: the greater file name wins (the state is the row of the
      greatest (extract date, file name)).
    - A row whose created_at (UTC date) is after its extract date gives no state: an
      opportunity created after D has no state on D. -#}
with snapshots as (
    select * from {{ ref('stg_crm__opportunities_snapshots') }}
),

dated as (
    select
        snapshots.*,
        coalesce(snapshots.file_extract_date, {{ as_of_date() }}) as extract_date,
        cast(snapshots.created_at as date) as created_date
    from snapshots
),

ranked as (
    select
        dated.*,
        row_number() over (
            partition by dated.opportunity_id, dated.extract_date
            order by dated.source_file desc, dated.source_row desc
        ) as file_rank
    from dated
    where dated.extract_date <= {{ as_of_date() }}
        and dated.created_date <= dated.extract_date
),

final as (
    select
        -- keys
        opportunity_id,
        extract_date,
        -- tracked fields
        account_id,
        opportunity_type,
        stage,
        is_closed,
        is_won,
        close_date,
        amount,
        currency,
        owner_id,
        -- the extract
        created_date,
        source_file
    from ranked
    where file_rank = 1
)

select * from final
