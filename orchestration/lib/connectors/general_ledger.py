"""General ledger -> finance/spend: a GL detail export (QuickBooks, Xero, any CSV) and an account mapping.

Every line of the export belongs to a GL account. The account mapping (a CSV the user edits:
`account,department,category,channel`) says which accounts are sales or marketing expense and
which are left out (`department` = `exclude`). An account that is neither stops the import with
the list of such accounts and their totals: no expense is dropped silently. An `account` may be a
pattern (`1*`, `4???`); an exact entry wins over patterns, and patterns apply in file order.

`spend_id` is stable across re-exports: a hash of the line's date, account, reference,
description and amount, plus its occurrence number among identical lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.connectors.base import Connector, Extraction, PullError
from orchestration.lib.contract import SPEND
from orchestration.settings import Settings

SOURCE = "general_ledger"
DEPARTMENTS = ("marketing", "sales")
EXCLUDE = "exclude"


@dataclass(frozen=True)
class Layout:
    """Which export column holds what. Either `amount` (signed, expense positive) or `debit` and
    `credit` (amount = debit - credit)."""

    date: str
    account: str
    date_format: str = "%Y-%m-%d"
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    description: str | None = None
    reference: str | None = None
    currency: str | None = None
    campaign: str | None = None


LAYOUTS: dict[str, Layout] = {
    # QuickBooks Online: Reports > "Transaction Detail by Account", exported to CSV.
    "quickbooks": Layout(
        date="Date",
        account="Account",
        date_format="%m/%d/%Y",
        amount="Amount",
        description="Memo/Description",
        reference="Num",
    ),
    # Xero: Accounting > Reports > "Account Transactions", exported to CSV.
    "xero": Layout(
        date="Date",
        account="Account Code",
        date_format="%d %b %Y",
        debit="Debit",
        credit="Credit",
        description="Description",
        reference="Reference",
    ),
}


@dataclass(frozen=True)
class AccountRule:
    account: str  # an account, or a pattern with * ? [..]
    department: str  # marketing | sales | exclude
    category: str | None
    channel: str | None


@dataclass
class LedgerImport:
    rows: list[dict]
    mapped_accounts: int
    excluded_lines: int


class LedgerError(PullError):
    def __init__(self, where: str, reason: str):
        super().__init__(SOURCE, where, reason)


def parse_layout(text: str) -> Layout:
    """`quickbooks`, `xero`, or `date=Posting Date,account=GL Code,amount=Net,date_format=%d.%m.%Y`."""
    text = text.strip()
    if text.lower() in LAYOUTS:
        return LAYOUTS[text.lower()]
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in Layout.__dataclass_fields__:
            raise LedgerError(
                "GTM_GL_LAYOUT",
                f"{part.strip()!r} is not name=column; use quickbooks, xero or "
                f"date=...,account=...,amount=... (names: {', '.join(Layout.__dataclass_fields__)})",
            )
        fields[name.strip()] = value.strip()
    if "date" not in fields or "account" not in fields or not ("amount" in fields or "debit" in fields):
        raise LedgerError("GTM_GL_LAYOUT", "a custom layout needs date=, account= and amount= (or debit= and credit=)")
    return Layout(**fields)


def read_account_mapping(path: Path) -> list[AccountRule]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "account" not in header or "department" not in header:
            raise LedgerError(str(path), "the account mapping needs the columns account,department,category,channel")
        rules = []
        for line, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            department = row.get("department", "").lower()
            if department not in (*DEPARTMENTS, EXCLUDE):
                raise LedgerError(f"{path}:{line}", f"department {department!r} must be marketing, sales or exclude")
            if department != EXCLUDE and not row.get("category"):
                raise LedgerError(f"{path}:{line}", f"account {row['account']!r} needs a category")
            rules.append(
                AccountRule(row["account"], department, row.get("category") or None, row.get("channel") or None)
            )
    return rules


def match_rule(account: str, rules: list[AccountRule]) -> AccountRule | None:
    for rule in rules:
        if rule.account == account:
            return rule
    for rule in rules:
        if fnmatch.fnmatchcase(account, rule.account):
            return rule
    return None


def parse_amount(text: str) -> float:
    """`1,234.50`, `-80`, `(80.00)` (negative), `$ 12`; empty is 0 (a debit-only line's credit)."""
    cleaned = re.sub(r"[^\d.\-()]", "", text)
    if not cleaned:
        return 0.0
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    value = float(cleaned.strip("()"))
    return -value if negative else value


def read_export(path: Path, layout: Layout) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row) of every transaction line; report titles above the header and
    total or group lines (no date) are skipped."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    for index, cells in enumerate(lines):
        names = [c.strip() for c in cells]
        if layout.date in names and layout.account in names:
            header, start = names, index + 1
            break
    else:
        raise LedgerError(
            str(path), f"no header row with the columns {layout.date!r} and {layout.account!r} (GTM_GL_LAYOUT)"
        )
    for column in (layout.amount, layout.debit, layout.credit):
        if column and column not in header:
            raise LedgerError(str(path), f"no column {column!r} in the header {header} (GTM_GL_LAYOUT)")
    for number, cells in enumerate(lines[start:], start=start + 1):
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        if row.get(layout.date) and row.get(layout.account):
            yield number, row


def import_ledger(files: list[Path], layout: Layout, rules: list[AccountRule], currency: str) -> LedgerImport:
    """finance/spend rows of the exports' lines; stops on any account the mapping does not cover."""
    rows, unmapped, mapped, excluded = [], defaultdict(float), set(), 0
    occurrences: Counter[str] = Counter()
    for path in files:
        for line, row in read_export(path, layout):
            where = f"{path.name}:{line}"
            account = row[layout.account]
            try:
                date = dt.datetime.strptime(row[layout.date], layout.date_format).date()
            except ValueError:
                raise LedgerError(
                    where, f"date {row[layout.date]!r} does not match {layout.date_format!r} (GTM_GL_LAYOUT)"
                ) from None
            try:
                if layout.amount:
                    amount = parse_amount(row.get(layout.amount, ""))
                else:
                    amount = parse_amount(row.get(layout.debit, "")) - parse_amount(row.get(layout.credit or "", ""))
            except ValueError:
                raise LedgerError(where, f"amount of account {account!r} is not a number") from None
            rule = match_rule(account, rules)
            if rule is None:
                unmapped[account] += amount
                continue
            if rule.department == EXCLUDE:
                excluded += 1
                continue
            mapped.add(account)
            reference = row.get(layout.reference or "", "")
            description = row.get(layout.description or "", "")
            identity = f"{date}|{account}|{reference}|{description}|{amount:.2f}"
            occurrences[identity] += 1
            digest = hashlib.sha256(f"{identity}|{occurrences[identity]}".encode()).hexdigest()[:16]
            rows.append(
                {
                    "spend_id": f"gl-{digest}",
                    "spend_date": date,
                    "department": rule.department,
                    "category": rule.category,
                    "channel": rule.channel,
                    "campaign_id": row.get(layout.campaign or "") or None,
                    "amount": round(amount, 2),
                    "currency": (row.get(layout.currency or "") or currency).upper(),
                    "description": " ".join(p for p in (reference, description) if p) or account,
                }
            )
    if unmapped:
        listed = "; ".join(f"{account}: {total:,.2f}" for account, total in sorted(unmapped.items()))
        raise LedgerError(
            "the account mapping (GTM_GL_ACCOUNT_MAPPING)",
            f"{len(unmapped)} GL account(s) neither mapped nor excluded, with their totals: {listed}. "
            "Map each to marketing or sales, or exclude it.",
        )
    return LedgerImport(rows, len(mapped), excluded)


def export_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and not p.name.startswith("."))
    else:
        files = [path] if path.is_file() else []
    if not files:
        raise LedgerError(str(path), "no GL export (.csv) there (GTM_GL_EXPORT)")
    return files


def _fingerprint(files: list[Path], mapping: Path, layout: Layout) -> str:
    digest = hashlib.sha256(repr(layout).encode())
    for path in (*files, mapping):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _extraction(settings: Settings) -> Extraction:
    import dlt

    layout = parse_layout(settings.gl_layout)
    rules = read_account_mapping(settings.gl_account_mapping)
    files = export_files(settings.gl_export)
    extraction = Extraction(resources=[])

    @dlt.resource(name=SPEND.qualified_name, max_table_nesting=0)
    def spend():
        # dlt's resource state remembers what was imported: an unchanged export is not re-written.
        state = dlt.current.resource_state()
        fingerprint = _fingerprint(files, settings.gl_account_mapping, layout)
        if state.get("fingerprint") == fingerprint:
            extraction.notes.append("GL export and mapping unchanged since the last import")
            return
        result = import_ledger(files, layout, rules, settings.reporting_currency)
        extraction.notes.append(
            f"{len(result.rows)} GL lines from {result.mapped_accounts} mapped account(s); "
            f"{result.excluded_lines} lines of excluded accounts left out"
        )
        yield result.rows
        state["fingerprint"] = fingerprint

    extraction.resources = [spend()]
    return extraction


GENERAL_LEDGER = Connector(
    name=SOURCE,
    description="finance/spend from a general-ledger detail export and an account mapping",
    entities=(SPEND,),
    required_settings=("gl_export", "gl_account_mapping"),
    extraction=_extraction,
)
