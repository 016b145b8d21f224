"""Number and date formats of the metrics report: compact, and a dash for nothing.

The published amounts are unrounded; the report rounds only for display.
"""

from __future__ import annotations

import datetime as dt
import math

MISSING = "\u2014"  # em dash
DASH = "\u2013"  # en dash, for ranges
TIMES = "\u00d7"  # multiplication sign
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "C$", "AUD": "A$"}


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency, f"{currency} ")


def money(value: float | None, currency: str = "USD", trim: bool = False) -> str:
    """$1.58M, $43.5K, $950, -$12.3K; `trim` drops trailing zeros ($2.5M, $5M) for axes."""
    if _is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit * 0.9995:
            scaled = size / limit
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            text = f"{scaled:.{digits}f}"
            if trim and "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{sign}{symbol(currency)}{text}{suffix}"
    return f"{sign}{symbol(currency)}{size:,.0f}"


def money_full(value: float | None, currency: str = "USD") -> str:
    """$1,584,655 (whole units)."""
    if _is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol(currency)}{abs(value):,.0f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percent: 0.848 -> 84.8%."""
    if _is_missing(value):
        return MISSING
    return f"{value * 100:.{digits}f}%"


def ratio(value: float | None, digits: int = 2) -> str:
    if _is_missing(value):
        return MISSING
    return f"{value:.{digits}f}"


def signed_ratio(value: float | None, digits: int = 2) -> str:
    if _is_missing(value):
        return MISSING
    return f"{value:+.{digits}f}"


def count(value: float | None) -> str:
    if _is_missing(value):
        return MISSING
    return f"{value:,.0f}"


def days(value: float | None) -> str:
    if _is_missing(value):
        return MISSING
    return f"{value:,.0f} d" if float(value).is_integer() else f"{value:,.1f} d"


def month(value: dt.date | None) -> str:
    """Nov 2026."""
    return MISSING if value is None else value.strftime("%b %Y")


def month_short(value: dt.date | None) -> str:
    """2026-11 (axis labels)."""
    return MISSING if value is None else value.strftime("%Y-%m")


def date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def months_between(first: dt.date, last: dt.date) -> str:
    """Jun 2025 - Aug 2026 (with an en dash), or one month."""
    return month(first) if first == last else f"{month(first)} {DASH} {month(last)}"
