"""The attribution tables as CSV or JSON, through dashboard.exports' `table_export` (every CSV
cell spreadsheet-safe). Amounts are exact: every digit of the 12 places, never rounded, so a
sheet's sums are the page's to the cent. Each amount column says its basis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dashboard.attribution import reports
from dashboard.attribution.forms import RangeForm
from dashboard.attribution.selectors import attribution_of
from dashboard.exports import table_export
from orgadmin.models import Organization


def _people(org: Organization, att: Any, **_: Any) -> tuple[list[str], list[list[Any]]]:
    columns = ["user_id", "person", "attributed_amount", "currency"]
    rows = [[r.id, r.label, r.amount, r.currency] for r in reports.people(org=org, att=att)]
    return columns, rows


def _keys(org: Organization, att: Any, start: Any, end: Any) -> tuple[list[str], list[list[Any]]]:
    columns = [
        "api_key_id",
        "key",
        "owner",
        "amount",
        "basis",
        "billed_amount",
        "attributed_amount",
        "currency",
    ]
    rows = [
        [r.id, r.label, r.detail, r.amount, r.basis, r.billed, r.attributed, r.currency]
        for r in reports.keys(org=org, att=att, start=start, end=end)
    ]
    return columns, rows


def _reconciliation(
    org: Organization, att: Any, start: Any, end: Any
) -> tuple[list[str], list[list[Any]]]:
    columns = [
        "date",
        "currency",
        "billed_amount",
        "attributed_amount",
        "remainder",
        "no_user_or_key_dimension",
        "unexplained",
        "coverage_percent",
        "flagged",
        "reasons",
    ]
    rows = []
    for r in reports.reconcile_days(org=org, att=att, start=start, end=end):
        reasons = "; ".join(f"{why}: {amount}" for why, amount in sorted(r.reasons.items()))
        coverage = None if r.coverage is None else round(r.coverage, 2)
        rows.append(
            [
                r.label,
                r.currency,
                r.billed,
                r.attributed,
                r.remainder,
                r.structural,
                r.unexplained,
                coverage,
                "yes" if r.flagged else "no",
                reasons,
            ]
        )
    return columns, rows


TABLES = {"people": _people, "keys": _keys, "reconciliation": _reconciliation}


def export(
    *, org: Organization, form: RangeForm, table: str, fmt: str
) -> tuple[Iterator[str], str]:
    """(text chunks, file name) of one attribution table over the form's range."""
    start, end = form.span()
    att = attribution_of(org=org, start=start, end=end)
    columns, rows = TABLES[table](org, att, start=start, end=end)
    last = form.cleaned_data["end"]
    return table_export(columns, rows, fmt=fmt, filename=f"{table}-{start}-{last}.{fmt}")
