{#- Each month's net change in MRR (docs/metrics.md, "MRR movements"): ending minus starting
    MRR of marts.mrr_movements, which is also its five movements summed. The report draws it
    over the stacked movements; it lives here so that a reader of the marts gets the same
    number. -#}

with mrr as (
    select * from {{ ref('mrr_movements') }}
),

final as (
    select
        -- dates
        cast(month as date) as month,
        -- amounts
        cast(ending_mrr - starting_mrr as double) as net_change_mrr
    from mrr
)

select * from final
