{#- Account MRR by month with its movement: the published form of
    int_account_mrr_monthly, for analysts who slice MRR by account. -#}
with account_mrr as (
    select * from {{ ref('int_account_mrr_monthly') }}
)

select * from account_mrr
