"""What the attribution pages show: their context from the reports' tables (labels, links,
figures, trends). No arithmetic on money beyond the reports' sums; no queries of its own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse

from dashboard.attribution import reports
from dashboard.attribution.engine import Attribution
from dashboard.attribution.forms import RangeForm
from dashboard.attribution.pricetable import vendored_table
from dashboard.attribution.selectors import attribution_of
from dashboard.charts import Series, cost_by_day_figure
from orgadmin.models import Organization

TABS = (
    ("People", "attribution"),
    ("Keys", "attribution_keys"),
    ("Reconciliation", "attribution_reconciliation"),
    ("Prices", "attribution_prices"),
)
MAX_ROWS = 200
ITEM_ROWS = 50  # project and line item rows with a remainder shown (the largest first)
# The drill-down's tables: (breakdown dimension, its title).
PERSON_TABLES = (
    ("model", "model"),
    ("api_key_id", "key"),
    ("project_id", "project"),
    ("service_tier", "service tier"),
    ("day", "day"),
)
KEY_TABLES = (
    ("model", "model"),
    ("user_id", "person"),
    ("project_id", "project"),
    ("service_tier", "service tier"),
    ("day", "day"),
)


def tabs(current: str, form: RangeForm | None) -> list[dict[str, Any]]:
    query = form.query() if form is not None and form.is_valid() else ""
    return [
        {
            "label": label,
            "url": reverse(name) + (f"?{query}" if query else ""),
            "active": name == current,
        }
        for label, name in TABS
    ]


def spark(values: list[Decimal], width: int = 120, height: int = 24) -> str:
    """An SVG polyline's points for a trend: no axes, the highest value at the top."""
    if not values:
        return ""
    top = max(max(values), Decimal(0)) or Decimal(1)
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - float(max(v, Decimal(0)) / top) * (height - 2) - 1:.1f}"
        for i, v in enumerate(values)
    )


def _trends(rows: list[reports.Row], days: list[dt.date]) -> list[reports.Row]:
    for row in rows[:MAX_ROWS]:
        row.spark = spark(row.trend(days))  # type: ignore[attr-defined]
    return rows


def _totals(rows: list[reports.Row]) -> list[tuple[str, Decimal]]:
    sums: dict[str, Decimal] = {}
    for r in rows:
        sums[r.currency] = sums.get(r.currency, Decimal(0)) + r.amount
    return sorted(sums.items())


def _drill(
    org: Organization, att: Attribution, days: list[dt.date], where, label: str, titles
) -> dict[str, Any]:
    parts = reports.breakdown(org=org, att=att, where=where)
    currency = parts["model"][0].currency if parts["model"] else "usd"
    series = [
        Series(name=r.label, values=[float(v) for v in r.trend(days)])
        for r in parts["model"]
        if r.currency == currency
    ]
    return {
        "drill": parts,
        "drill_label": label,
        "drill_titles": titles,
        "drill_total": _totals(parts["model"]),
        "figure": cost_by_day_figure(days=days, series=series, currency=currency),
    }


def people_context(*, org: Organization, form: RangeForm) -> dict[str, Any]:
    start, end = form.span()
    att = attribution_of(org=org, start=start, end=end)
    days = reports.days_of(start, end)
    rows = _trends(reports.people(org=org, att=att), days)
    context: dict[str, Any] = {"rows": rows, "totals": _totals(rows), "days": days}
    person = form.cleaned_data["person"]
    if person:
        user_id = "" if person == reports.NO_USER else person
        found = next((r for r in rows if r.id == user_id), None)
        label = found.label if found else person
        context.update(_drill(org, att, days, lambda r: r.user_id == user_id, label, PERSON_TABLES))
    return context


def keys_context(*, org: Organization, form: RangeForm) -> dict[str, Any]:
    start, end = form.span()
    att = attribution_of(org=org, start=start, end=end)
    days = reports.days_of(start, end)
    rows = _trends(reports.keys(org=org, att=att, start=start, end=end), days)
    context: dict[str, Any] = {"rows": rows, "totals": _totals(rows), "days": days}
    key = form.cleaned_data["key"]
    if key:
        key_id = "" if key == reports.NO_USER else key
        found = next((r for r in rows if r.id == key_id), None)
        label = found.label if found else key
        context.update(_drill(org, att, days, lambda r: r.api_key_id == key_id, label, KEY_TABLES))
    return context


def reconciliation_context(*, org: Organization, form: RangeForm) -> dict[str, Any]:
    start, end = form.span()
    att = attribution_of(org=org, start=start, end=end)
    day_rows = reports.reconcile_days(org=org, att=att, start=start, end=end)
    days = reports.days_of(start, end)
    usd = {dt.date.fromisoformat(r.label): r for r in day_rows if r.currency == "usd"}
    series = [
        Series("Attributed", [float(usd[d].attributed) if d in usd else 0.0 for d in days]),
        Series(
            "No user or key dimension",
            [float(usd[d].structural) if d in usd else 0.0 for d in days],
        ),
        Series("Unexplained", [float(usd[d].unexplained) if d in usd else 0.0 for d in days]),
    ]
    items = reports.reconcile_items(org=org, att=att, start=start, end=end)
    total = reports.Reconciled("Total", "usd")
    for r in usd.values():
        total.billed += r.billed
        total.attributed += r.attributed
        total.structural += r.structural
    return {
        "day_rows": day_rows[::-1],
        "item_rows": [r for r in items if r.remainder][:ITEM_ROWS],
        "items_covered": sum(1 for r in items if not r.remainder),
        "reasons": reports.reasons(att),
        "total": total,
        "flagged": sum(1 for r in day_rows if r.flagged),
        "tolerance": reports.tolerance() * 100,
        "figure": cost_by_day_figure(days=days, series=series),
    }


def prices_context(*, org: Organization, form: RangeForm) -> dict[str, Any]:
    start, end = form.span()
    att = attribution_of(org=org, start=start, end=end)
    latest: dict[tuple[str, str], Any] = {}
    for p in att.prices:  # sorted by day: the last one of each line item stays
        latest[(p.line_item, p.currency)] = p
    rows = sorted(latest.values(), key=lambda p: (p.source != "table", p.line_item))
    return {
        "prices": rows,
        "derived": sum(1 for p in rows if p.source == "derived"),
        "table_version": vendored_table().version,
    }
