{#- The commercial ratio of docs/metrics.md: revenue growth over the sales and marketing
    expense that produced it, per fiscal year, fiscal quarter and trailing twelve
    months (ttm). See the model's yml for the definition and the readings chosen. -#}
with months as (
    select * from {{ ref('int_commercial_months') }}
),

first_data_month as (
    select min(month) as first_data_month
    from months
),

fiscal_year_periods as (
    select distinct
        'fiscal_year' as period_grain,
        {{ fiscal_year_start('month') }} as period_start,
        12 as period_months,
        1 as growth_annualization,
        {{ fiscal_year_label('month') }} as period_label
    from months
),

fiscal_quarter_periods as (
    select distinct
        'fiscal_quarter' as period_grain,
        {{ fiscal_quarter_start('month') }} as period_start,
        3 as period_months,
        4 as growth_annualization,
        {{ fiscal_quarter_label('month') }} as period_label
    from months
),

ttm_periods as (
    select
        'ttm' as period_grain,
        cast({{ dbt.dateadd('month', -11, 'month') }} as date) as period_start,
        12 as period_months,
        1 as growth_annualization,
        {{ dbt.concat(["'TTM-'", month_label('month')]) }} as period_label
    from months
),

periods as (
    select * from fiscal_year_periods
    union all
    select * from fiscal_quarter_periods
    union all
    select * from ttm_periods
),

period_bounds as (
    select
        periods.*,
        cast({{ dbt.dateadd('month', 'period_months', 'period_start') }} as date) as next_period_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 'period_months', 'period_start')) }} as date)
            as period_end,
        cast({{ dbt.dateadd('month', '-period_months', 'period_start') }} as date) as prior_period_start
    from periods
),

period_totals as (
    select
        period_bounds.period_grain,
        period_bounds.period_start,
        coalesce({{ exact_sum('months.revenue') }}, 0) as revenue,
        coalesce({{ exact_sum('months.marketing_expense') }}, 0) as marketing_expense,
        coalesce({{ exact_sum('months.sales_expense') }}, 0) as sales_expense
    from period_bounds
    left join months
        on months.month >= period_bounds.period_start
        and months.month < period_bounds.next_period_start
    group by period_bounds.period_grain, period_bounds.period_start
),

prior_totals as (
    select
        period_bounds.period_grain,
        period_bounds.period_start,
        coalesce({{ exact_sum('months.revenue') }}, 0) as prior_revenue
    from period_bounds
    left join months
        on months.month >= period_bounds.prior_period_start
        and months.month < period_bounds.period_start
    group by period_bounds.period_grain, period_bounds.period_start
),

joined as (
    select
        period_bounds.period_grain,
        period_bounds.period_start,
        period_bounds.period_end,
        period_bounds.period_label,
        period_bounds.growth_annualization,
        period_totals.revenue,
        case
            when period_bounds.prior_period_start >= first_data_month.first_data_month
                then prior_totals.prior_revenue
        end as prior_revenue,
        period_totals.marketing_expense,
        period_totals.sales_expense,
        period_totals.marketing_expense + period_totals.sales_expense as sm_expense,
        period_bounds.period_end <= {{ as_of_date() }} as is_complete
    from period_bounds
    cross join first_data_month
    inner join period_totals
        on period_bounds.period_grain = period_totals.period_grain
        and period_bounds.period_start = period_totals.period_start
    inner join prior_totals
        on period_bounds.period_grain = prior_totals.period_grain
        and period_bounds.period_start = prior_totals.period_start
),

ratios as (
    select
        *,
        revenue - prior_revenue as revenue_growth,
        {# sm_expense <= 0 is judged at a millionth of the currency unit: accruals and
           reversals that net to zero can sum to 1e-13 in floating point, which is no
           expense (and would give an absurd ratio). #}
        case
            when prior_revenue is not null and round(sm_expense, 6) > 0 and is_complete
                then growth_annualization * (revenue - prior_revenue) / sm_expense
        end as commercial_ratio
    from joined
),

banded as (
    select
        -- grain
        period_grain,
        period_start,
        -- period
        period_end,
        period_label,
        -- amounts
        revenue,
        prior_revenue,
        revenue_growth,
        marketing_expense,
        sales_expense,
        sm_expense,
        -- ratio
        commercial_ratio,
        {# Banded on the ratio rounded to 10 decimals, so that floating-point noise in
            the sums (1.2500000000000002 for an exact 1.25) cannot change the band. #}
        case
            when commercial_ratio is null then null
            when round(commercial_ratio, 10) < {{ band_threshold(1) }} then 'unsustainable'
            when round(commercial_ratio, 10) <= {{ band_threshold(2) }} then 'balanced'
            when round(commercial_ratio, 10) <= {{ band_threshold(3) }} then 'efficient'
            else 'under_invested'
        end as band,
        is_complete
    from ratios
)

select * from banded
