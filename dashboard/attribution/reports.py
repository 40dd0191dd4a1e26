"""The attribution pages' tables: cost by person and by key with their trends and drill-downs,
and the reconciliation of billed against attributed. Reads only (a fixed number of queries:
the attribution's, plus one or two for the billed sums and the names).

Sums are exact (12 places) and each carries its basis: "billed" (from the cost rows) or
"attributed" (usage × unit price). Amounts are summed per currency, never across currencies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from dashboard.attribution.engine import AttributedCost, Attribution
from dashboard.attribution.lineitems import STRUCTURAL
from dashboard.models import CostBucket, CostRollup
from dashboard.selectors import names_for
from orgadmin.models import Organization, ProjectApiKey

NO_USER = "_none"  # the person "no user" in a URL: service-account keys, a key with no owner
ZERO = Decimal(0)


def tolerance() -> Decimal:
    """The share of a day's bill that may stay unexplained before the day is flagged."""
    return Decimal(str(settings.ATTRIBUTION_TOLERANCE_PERCENT)) / 100


def days_of(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


@dataclass
class Row:
    """One line of a table: who or what, its amount in a currency, and its daily trend."""

    id: str
    label: str
    currency: str
    amount: Decimal = ZERO
    basis: str = "attributed"
    daily: dict[dt.date, Decimal] = field(default_factory=dict)
    detail: str = ""  # a second line: an id, an owner
    billed: Decimal | None = None
    attributed: Decimal = ZERO

    def trend(self, days: list[dt.date]) -> list[Decimal]:
        return [self.daily.get(d, ZERO) for d in days]


def _group(
    rows: Iterable[AttributedCost], key: Callable[[AttributedCost], str]
) -> dict[tuple[str, str], Row]:
    out: dict[tuple[str, str], Row] = {}
    for r in rows:
        k = (key(r), r.currency)
        row = out.get(k)
        if row is None:
            row = out[k] = Row(id=k[0], label=k[0], currency=r.currency)
        row.amount += r.amount
        row.attributed += r.amount
        row.daily[r.day] = row.daily.get(r.day, ZERO) + r.amount
    return out


def _ranked(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.currency != "usd", r.currency, -r.amount, r.label))


def _name(rows: list[Row], names: dict[str, str], empty: str) -> list[Row]:
    for row in rows:
        row.label = names.get(row.id, row.id) if row.id else empty
        row.detail = row.id if row.id in names else ""
    return rows


def people(*, org: Organization, att: Attribution) -> list[Row]:
    """Each person's attributed cost (and "No user": service-account keys)."""
    rows = _ranked(_group(att.attributed, lambda r: r.user_id).values())
    return _name(rows, names_for(org=org, ids=[r.id for r in rows]), "No user (service accounts)")


def breakdown(
    *, org: Organization, att: Attribution, where: Callable[[AttributedCost], bool]
) -> dict[str, list[Row]]:
    """A person's or a key's cost by model, key, person, project and day (drill-down)."""
    mine = [r for r in att.attributed if where(r)]
    by = {
        "model": _ranked(_group(mine, lambda r: r.model).values()),
        "api_key_id": _ranked(_group(mine, lambda r: r.api_key_id).values()),
        "user_id": _ranked(_group(mine, lambda r: r.user_id).values()),
        "project_id": _ranked(_group(mine, lambda r: r.project_id).values()),
        "service_tier": _ranked(_group(mine, lambda r: r.service_tier).values()),
    }
    ids = [r.id for dim in ("api_key_id", "user_id", "project_id") for r in by[dim]]
    names = names_for(org=org, ids=ids)
    for dim, rows in by.items():
        _name(rows, names if dim in ("api_key_id", "user_id", "project_id") else {}, "—")
    days = _group(mine, lambda r: r.day.isoformat())
    by["day"] = sorted(days.values(), key=lambda r: (r.id, r.currency))
    return by


def keys(*, org: Organization, att: Attribution, start: dt.date, end: dt.date) -> list[Row]:
    """Each key's cost: billed where the cost rows name the key, attributed otherwise; with its
    name and owner."""
    rows = _group(att.attributed, lambda r: r.api_key_id)
    billed = (
        CostRollup.objects.filter(org=org, dimension="api_key_id", day__gte=start, day__lt=end)
        .exclude(value="")
        .values_list("value", "currency", "day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for key_id, currency, day, total in billed:
        row = rows.get((key_id, currency))
        if row is None:
            row = rows[(key_id, currency)] = Row(id=key_id, label=key_id, currency=currency)
        if row.billed is None:
            row.billed, row.daily = ZERO, {}
        row.billed += total
        row.daily[day] = row.daily.get(day, ZERO) + total
    for row in rows.values():
        row.basis = "billed" if row.billed is not None else "attributed"
        row.amount = row.billed if row.billed is not None else row.attributed
    ranked = _ranked(rows.values())
    ids = [r.id for r in ranked]
    _name(ranked, names_for(org=org, ids=ids), "No key")
    owners = dict(
        ProjectApiKey.objects.filter(org=org, openai_id__in=ids).values_list(
            "openai_id", "owner_name"
        )
    )
    for row in ranked:
        row.detail = owners.get(row.id) or ""
    return ranked


@dataclass
class Reconciled:
    """Billed against attributed for one day (or one project and line item)."""

    label: str
    currency: str
    billed: Decimal = ZERO
    attributed: Decimal = ZERO
    structural: Decimal = ZERO  # the part no usage can explain (no user or key dimension)
    reasons: dict[str, Decimal] = field(default_factory=dict)
    project_id: str = ""
    line_item: str = ""

    @property
    def remainder(self) -> Decimal:
        return self.billed - self.attributed

    @property
    def unexplained(self) -> Decimal:
        return self.remainder - self.structural

    @property
    def coverage(self) -> Decimal | None:
        return self.attributed / self.billed * 100 if self.billed else None

    @property
    def flagged(self) -> bool:
        limit = abs(self.billed) * tolerance()
        return abs(self.unexplained) > limit if self.billed else bool(self.unexplained)


def reconcile_days(
    *, org: Organization, att: Attribution, start: dt.date, end: dt.date
) -> list[Reconciled]:
    """Per UTC day: the bill (the cost rollup's totals), what was attributed, the remainder and
    its reasons; flagged when the part not explained by a missing dimension passes the
    tolerance."""
    out: dict[tuple[str, str], Reconciled] = {}
    billed = CostRollup.objects.filter(
        org=org, dimension="", day__gte=start, day__lt=end
    ).values_list("day", "currency", "amount")
    for day, currency, amount in billed:
        k = (day.isoformat(), currency)
        out.setdefault(k, Reconciled(k[0], currency)).billed += amount
    _fill(out, att, lambda d, p, li: d.isoformat())
    return sorted(out.values(), key=lambda r: (r.label, r.currency))


def reconcile_items(
    *, org: Organization, att: Attribution, start: dt.date, end: dt.date
) -> list[Reconciled]:
    """Per project and line item over the range, the largest remainder first."""
    out: dict[tuple[str, str], Reconciled] = {}
    billed = (
        CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)
        .values_list("project_id", "line_item", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for project, item, currency, total in billed:
        k = (f"{project}\x00{item}", currency)
        row = out.setdefault(k, Reconciled(k[0], currency, project_id=project, line_item=item))
        row.billed += total
    _fill(out, att, lambda d, p, li: f"{p}\x00{li}", by_cell_project=True)
    rows = sorted(out.values(), key=lambda r: (-abs(r.remainder), r.label))
    names = names_for(org=org, ids={r.project_id for r in rows})
    for r in rows:
        r.label = names.get(r.project_id, r.project_id or "No project")
    return rows


def _fill(
    out: dict[tuple[str, str], Reconciled],
    att: Attribution,
    key: Callable[[dt.date, str, str], str],
    *,
    by_cell_project: bool = False,
) -> None:
    """Attributed amounts and remainders into the rows keyed by `key(day, project, item)`.
    By project, an attributed amount counts under its cost row's project, which the remainder
    names: a usage row carries its own project, equal to the cost row's unless that had none."""
    for r in att.attributed:
        k = (key(r.day, r.project_id, r.line_item), r.currency)
        if by_cell_project and k not in out:
            k = (key(r.day, "", r.line_item), r.currency)
        out.setdefault(k, Reconciled(k[0], r.currency)).attributed += r.amount
    for m in att.remainders:
        k = (key(m.day, m.project_id, m.line_item), m.currency)
        row = out.setdefault(k, Reconciled(k[0], m.currency))
        row.reasons[m.reason] = row.reasons.get(m.reason, ZERO) + m.amount
        if m.reason in STRUCTURAL.values():
            row.structural += m.amount


def reasons(att: Attribution) -> list[tuple[str, str, Decimal]]:
    """(reason, currency, amount) over the range, the largest first."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for m in att.remainders:
        sums[(m.reason, m.currency)] += m.amount
    return sorted(((r, c, a) for (r, c), a in sums.items()), key=lambda t: -abs(t[2]))
