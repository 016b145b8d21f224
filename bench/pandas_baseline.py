"""The pandas baseline: three marts computed from the landing files the obvious way.

What an analyst would write without a warehouse: read the extracts with pandas, keep
the newest extract's row per key, convert currencies with `merge_asof` (latest rate on
or before the amount's date) and compute `commercial_ratio`, `lead_funnel` and
`mrr_movements` with vectorized pandas, following docs/metrics.md. No quarantine, no
checks: the landed demo data is clean. run.py compares the output with the published
tables, so the comparison with the pipeline is like for like.

    python bench/pandas_baseline.py LANDING_DIR OUT_DIR --as-of-date 2026-11-26

Writes OUT_DIR/<mart>.parquet and prints one JSON line with the seconds per phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

HALF_A_CENT = 0.005


# -- reading -------------------------------------------------------------------------


def read_entity(
    landing: Path, folder: str, dates: tuple[str, ...] = (), timestamps: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Every extract of an entity, the newest file last (it wins a key)."""
    frames = []
    for path in sorted((landing / folder).glob("*"), key=lambda p: p.name.encode()):
        if path.suffix == ".csv":
            frame = pd.read_csv(path)
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            continue
        for column in timestamps:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").dt.tz_localize(None)
        for column in dates:
            frame[column] = pd.to_datetime(frame[column])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def latest_per_key(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.drop_duplicates(subset=key, keep="last")


def fx_table(landing: Path, reporting_currency: str) -> pd.DataFrame:
    if not (landing / "finance" / "fx_rates").is_dir():
        return pd.DataFrame({"currency": [], "rate_date": [], "rate_to_reporting": []})
    rates = read_entity(landing, "finance/fx_rates", dates=("rate_date",))
    rates["currency"] = rates["currency"].str.upper()
    rates = rates[rates["currency"] != reporting_currency]
    rates["rate_date"] = rates["rate_date"].astype("datetime64[ns]")
    return rates.drop_duplicates(subset=["rate_date", "currency"], keep="last").sort_values("rate_date")


def convert(frame: pd.DataFrame, fx: pd.DataFrame, date_column: str, reporting_currency: str) -> pd.Series:
    """The rate of each row: latest on or before its date; 1 for the reporting currency."""
    keyed = frame[["currency", date_column]].assign(_row=np.arange(len(frame)))
    keyed[date_column] = keyed[date_column].astype("datetime64[ns]")
    keyed = keyed.sort_values(date_column)
    merged = pd.merge_asof(
        keyed,
        fx,
        left_on=date_column,
        right_on="rate_date",
        by="currency",
        direction="backward",
    ).sort_values("_row")
    rate = merged["rate_to_reporting"].to_numpy()
    rate = np.where(merged["currency"].to_numpy() == reporting_currency, 1.0, rate)
    return pd.Series(rate, index=frame.index)


def month_start(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def add_months(dates: pd.Series | pd.Timestamp, months) -> pd.Series:
    periods = pd.Series(dates).dt.to_period("M") + np.asarray(months)
    return periods.dt.to_timestamp()


# -- commercial_ratio ----------------------------------------------------------------


def commercial_ratio(
    landing: Path,
    fx: pd.DataFrame,
    as_of: pd.Timestamp,
    currency: str,
    fiscal_start: int = 1,
    thresholds: tuple[float, float, float] = (0.75, 1.25, 1.5),
) -> pd.DataFrame:
    lines = read_entity(landing, "billing/invoice_lines", dates=("invoice_date", "service_start", "service_end"))
    lines = latest_per_key(lines, "invoice_line_id")
    lines["currency"] = lines["currency"].str.upper()
    lines = lines[lines["invoice_date"] <= as_of].copy()
    period = (
        lines["service_start"].notna()
        & lines["service_end"].notna()
        & (lines["service_end"] > lines["service_start"])
    )
    lines["start"] = lines["service_start"].where(period, lines["invoice_date"])
    lines["end"] = lines["service_end"].where(period, lines["invoice_date"] + pd.Timedelta(days=1))
    lines = lines[lines["start"] <= as_of].copy()
    lines["total_days"] = (lines["end"] - lines["start"]).dt.days
    lines["until"] = lines["end"].clip(upper=as_of + pd.Timedelta(days=1))
    lines["rate"] = convert(lines, fx, "invoice_date", currency)
    first = month_start(lines["start"])
    last = month_start(lines["until"] - pd.Timedelta(days=1))
    spans = (last.dt.year - first.dt.year) * 12 + (last.dt.month - first.dt.month) + 1
    # one row per line and month it recognizes days in
    expanded = lines.loc[lines.index.repeat(spans)].copy()
    ends = np.cumsum(spans.to_numpy())
    offsets = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - spans.to_numpy(), spans.to_numpy())
    expanded["month"] = add_months(first.loc[expanded.index].reset_index(drop=True), offsets).to_numpy()
    next_month = add_months(expanded["month"].reset_index(drop=True), 1).to_numpy()
    lo = np.maximum(expanded["start"].to_numpy(), expanded["month"].to_numpy())
    hi = np.minimum(expanded["until"].to_numpy(), next_month)
    days = (hi - lo) / np.timedelta64(1, "D")
    expanded["revenue"] = expanded["amount"] * days / expanded["total_days"] * expanded["rate"]
    revenue = expanded.groupby("month")["revenue"].sum()

    spend = read_entity(landing, "finance/spend", dates=("spend_date",))
    spend = latest_per_key(spend, "spend_id")
    spend["currency"] = spend["currency"].str.upper()
    spend = spend[spend["spend_date"] <= as_of].copy()
    spend["amount_reporting"] = spend["amount"] * convert(spend, fx, "spend_date", currency)
    spend["month"] = month_start(spend["spend_date"])
    expense = spend.pivot_table(
        index="month", columns="department", values="amount_reporting", aggfunc="sum", fill_value=0.0
    ).reindex(columns=["marketing", "sales"], fill_value=0.0)

    first_month = min(revenue.index.min(), expense.index.min())
    months_index = pd.date_range(first_month, month_start(pd.Series([as_of])).iloc[0], freq="MS")
    months = pd.DataFrame(index=months_index)
    months["revenue"] = revenue.reindex(months_index, fill_value=0.0)
    months["marketing_expense"] = expense["marketing"].reindex(months_index, fill_value=0.0)
    months["sales_expense"] = expense["sales"].reindex(months_index, fill_value=0.0)
    cumulative = months.cumsum()

    def total(column: str, start: pd.Series, end: pd.Series) -> np.ndarray:
        """Sum of `column` over the data months in [start, end): running totals before
        `end` minus before `start` (0 before the first data month)."""
        before = cumulative[column].reindex(
            pd.DatetimeIndex(pd.concat([start, end])) - pd.Timedelta(days=1), method="ffill"
        ).fillna(0.0).to_numpy()
        return before[len(start):] - before[: len(start)]

    month_list = pd.Series(months_index)
    offset = (month_list.dt.month - fiscal_start) % 12
    fy_start = add_months(month_list, -offset)
    fq_start = add_months(month_list, -(offset % 3))
    fiscal_year = add_months(fy_start, 11).dt.year
    quarter = offset // 3 + 1
    fy_label = "FY" + fiscal_year.astype(str)
    periods = pd.concat(
        [
            pd.DataFrame(
                {"period_grain": "fiscal_year", "period_start": fy_start, "n": 12, "k": 1, "period_label": fy_label}
            ).drop_duplicates(),
            pd.DataFrame(
                {
                    "period_grain": "fiscal_quarter",
                    "period_start": fq_start,
                    "n": 3,
                    "k": 4,  # quarterly growth is annualized
                    "period_label": fy_label + "-Q" + quarter.astype(str),
                }
            ).drop_duplicates(),
            pd.DataFrame(
                {
                    "period_grain": "ttm",
                    "period_start": add_months(month_list, -11),
                    "n": 12,
                    "k": 1,
                    "period_label": "TTM-" + month_list.dt.strftime("%Y-%m"),
                }
            ),
        ],
        ignore_index=True,
    )
    next_start = add_months(periods["period_start"], periods["n"])
    prior_start = add_months(periods["period_start"], -periods["n"])
    out = periods[["period_grain", "period_start"]].copy()
    out["period_end"] = next_start - pd.Timedelta(days=1)
    out["period_label"] = periods["period_label"]
    out["revenue"] = total("revenue", periods["period_start"], next_start)
    prior = total("revenue", prior_start, periods["period_start"])
    out["prior_revenue"] = np.where(prior_start >= months_index[0], prior, np.nan)
    out["revenue_growth"] = out["revenue"] - out["prior_revenue"]
    out["marketing_expense"] = total("marketing_expense", periods["period_start"], next_start)
    out["sales_expense"] = total("sales_expense", periods["period_start"], next_start)
    out["sm_expense"] = out["marketing_expense"] + out["sales_expense"]
    out["is_complete"] = out["period_end"] <= as_of
    usable = out["prior_revenue"].notna() & (out["sm_expense"].round(6) > 0) & out["is_complete"]
    ratio = periods["k"] * out["revenue_growth"] / out["sm_expense"]
    out["commercial_ratio"] = ratio.where(usable)
    rounded = out["commercial_ratio"].round(10)
    t1, t2, t3 = thresholds
    out["band"] = np.select(
        [rounded.isna(), rounded < t1, rounded <= t2, rounded <= t3],
        [None, "unsustainable", "balanced", "efficient"],
        default="under_invested",
    )
    out["band"] = out["band"].where(rounded.notna(), None)
    return out


# -- lead_funnel ---------------------------------------------------------------------


def opportunities_staged(landing: Path, fx: pd.DataFrame, as_of: pd.Timestamp, currency: str) -> pd.DataFrame:
    opps = read_entity(landing, "crm/opportunities", dates=("close_date",), timestamps=("created_at",))
    opps = latest_per_key(opps, "opportunity_id")
    opps = opps[opps["created_at"].dt.normalize() <= as_of].copy()
    opps["currency"] = opps["currency"].str.upper()
    closed = opps["is_closed"].astype(bool) & (opps["close_date"] <= as_of)
    opps["outcome"] = np.where(closed & opps["is_won"].astype(bool), "won", np.where(closed, "lost", "open"))
    opps["fx_date"] = opps["close_date"].where(closed, opps["created_at"].dt.normalize())
    opps["amount_reporting"] = opps["amount"] * convert(opps, fx, "fx_date", currency)
    return opps[["opportunity_id", "account_id", "lead_id", "created_at", "outcome", "amount_reporting"]]


def lead_funnel(
    landing: Path, fx: pd.DataFrame, as_of: pd.Timestamp, currency: str, maturity_days: int = 90
) -> pd.DataFrame:
    milestones = ("mql_at", "sql_at", "converted_at", "disqualified_at")
    leads = read_entity(landing, "crm/leads", timestamps=("created_at", *milestones))
    leads = latest_per_key(leads, "lead_id")
    leads = leads[leads["created_at"].dt.normalize() <= as_of].copy()
    opps = opportunities_staged(landing, fx, as_of, currency)
    accounts = latest_per_key(read_entity(landing, "crm/accounts"), "account_id")
    segments = accounts.set_index("account_id")["segment"]

    first_by_lead = (
        opps[opps["lead_id"].notna()]
        .sort_values(["lead_id", "created_at", "opportunity_id"])
        .drop_duplicates("lead_id")
        .set_index("lead_id")["opportunity_id"]
    )
    known = leads["opportunity_id"].where(leads["opportunity_id"].isin(opps["opportunity_id"]))
    leads["linked"] = known.fillna(leads["lead_id"].map(first_by_lead))
    by_id = opps.set_index("opportunity_id")
    leads["outcome"] = leads["linked"].map(by_id["outcome"])
    leads["amount"] = leads["linked"].map(by_id["amount_reporting"])
    leads["opp_account"] = leads["linked"].map(by_id["account_id"])
    to_date = {m: leads[m].notna() & (leads[m].dt.normalize() <= as_of) for m in milestones}
    won = leads["outcome"].eq("won")
    opportunity = won | to_date["converted_at"] | leads["linked"].notna()
    sql = opportunity | to_date["sql_at"]
    mql = sql | to_date["mql_at"]
    frame = pd.DataFrame(
        {
            "cohort_month": month_start(leads["created_at"].dt.normalize()),
            "channel": leads["channel"],
            "segment": leads["account_id"].map(segments).fillna(leads["opp_account"].map(segments)).fillna("Unknown"),
            "leads": 1,
            "mqls": mql.astype(int),
            "sqls": sql.astype(int),
            "opportunities": opportunity.astype(int),
            "won": won.astype(int),
            "disqualified": (to_date["disqualified_at"] & ~opportunity).astype(int),
            "won_amount": leads["amount"].where(won, 0.0),
        }
    )
    out = frame.groupby(["cohort_month", "channel", "segment"], as_index=False).sum(min_count=0)

    def rate(numerator: str, denominator: str) -> pd.Series:
        return (out[numerator] / out[denominator].replace(0, np.nan)).astype(float)

    out["mql_rate"] = rate("mqls", "leads")
    out["sql_rate"] = rate("sqls", "mqls")
    out["opportunity_rate"] = rate("opportunities", "sqls")
    out["win_rate"] = rate("won", "opportunities")
    out["lead_to_won_rate"] = rate("won", "leads")
    month_end = add_months(out["cohort_month"], 1) - pd.Timedelta(days=1)
    out["cohort_age_days"] = (as_of - month_end).dt.days
    out["is_mature"] = out["cohort_age_days"] >= maturity_days
    return out


# -- mrr_movements -------------------------------------------------------------------


def mrr_movements(landing: Path, fx: pd.DataFrame, as_of: pd.Timestamp, currency: str) -> pd.DataFrame:
    subs = read_entity(landing, "billing/subscriptions", dates=("start_date", "end_date"))
    subs = latest_per_key(subs, "subscription_id")
    subs["currency"] = subs["currency"].str.upper()
    subs = subs[subs["start_date"] <= as_of].copy()
    subs["mrr"] = subs["arr"] * convert(subs, fx, "start_date", currency) / 12
    as_of_month = month_start(pd.Series([as_of])).iloc[0]
    months = pd.DataFrame({"month": pd.date_range(month_start(subs["start_date"]).min(), as_of_month, freq="MS")})
    months["measuring"] = (months["month"] + pd.offsets.MonthEnd(0)).where(months["month"] != as_of_month, as_of)
    # every subscription against every month, kept where the measuring day is covered
    pairs = subs[["account_id", "start_date", "end_date", "mrr"]].merge(months, how="cross")
    active = (pairs["start_date"] <= pairs["measuring"]) & (
        pairs["end_date"].isna() | (pairs["end_date"] > pairs["measuring"])
    )
    measured = pairs[active].groupby(["account_id", "month"])["mrr"].sum()
    wide = measured.unstack("month").reindex(columns=months["month"]).fillna(0.0)
    wide = wide.where(wide >= HALF_A_CENT, 0.0)
    has_mrr = wide.to_numpy() > 0
    started = np.maximum.accumulate(has_mrr, axis=1)  # from the account's first MRR month on
    first = started & ~np.concatenate([np.zeros((len(wide), 1), bool), started[:, :-1]], axis=1)
    ending = wide.to_numpy()
    starting = np.concatenate([np.zeros((len(wide), 1)), ending[:, :-1]], axis=1)
    change = ending - starting
    up, down = starting == 0, ending == 0
    new = started & up & (ending > 0) & first
    reactivation = started & up & (ending > 0) & ~first
    churn = started & (starting > 0) & down
    expansion = started & (starting > 0) & ~down & (change >= HALF_A_CENT)
    contraction = started & (starting > 0) & ~down & (change <= -HALF_A_CENT)
    out = pd.DataFrame(
        {
            "month": wide.columns,
            "new_mrr": (change * new).sum(axis=0),
            "reactivation_mrr": (change * reactivation).sum(axis=0),
            "expansion_mrr": (change * expansion).sum(axis=0),
            "contraction_mrr": (change * contraction).sum(axis=0),
            "churned_mrr": (change * churn).sum(axis=0),
            "ending_mrr": (ending * started).sum(axis=0),
            "customers_start": (started & (starting > 0)).sum(axis=0),
            "new_customers": new.sum(axis=0),
            "reactivated_customers": reactivation.sum(axis=0),
            "churned_customers": churn.sum(axis=0),
            "customers_end": (started & (ending > 0)).sum(axis=0),
        }
    )
    out = out[out["month"] >= wide.columns[started.any(axis=0)].min()].reset_index(drop=True)
    out.insert(1, "starting_mrr", out["ending_mrr"].shift(1, fill_value=0.0))
    return out


# -- main ----------------------------------------------------------------------------


def run(landing: Path, out_dir: Path, as_of_date: dt.date, currency: str = "USD") -> dict[str, float]:
    seconds: dict[str, float] = {}
    as_of = pd.Timestamp(as_of_date)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fx = fx_table(landing, currency)
    for name, build in (
        ("commercial_ratio", commercial_ratio),
        ("lead_funnel", lead_funnel),
        ("mrr_movements", mrr_movements),
    ):
        step = time.perf_counter()
        build(landing, fx, as_of, currency).to_parquet(out_dir / f"{name}.parquet", index=False)
        seconds[name] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landing", type=Path, help="landing dir (docs/landing-contract.md layout)")
    parser.add_argument("out", type=Path, help="folder for <mart>.parquet")
    parser.add_argument("--as-of-date", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    print(json.dumps(run(args.landing, args.out, args.as_of_date)))


if __name__ == "__main__":
    main()
