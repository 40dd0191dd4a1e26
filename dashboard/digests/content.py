"""What a digest says: its subject and plain-text body, read from our tables (never the API).

Finance: the period's spend against the period before, this month's forecast as the Overview
makes it (dashboard.tables.month_spend), every budget (dashboard.budgets.selectors), the keys,
projects and models whose cost rose most, and the open anomalies. Auditor: the security summary
of the Auditor's Overview (orgadmin.views.security_summary) and the open hygiene findings
(orgadmin.hygiene.selectors.hygiene_digest). Money stays Decimal and is written
as the pages write it (the `money` filter); links are absolute (SITE_URL) and only to pages the
person may open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from dashboard import selectors, tables
from dashboard.alerts.models import Alert
from dashboard.budgets.selectors import budget_statuses
from dashboard.digests.models import CADENCE, Kind
from dashboard.digests.schedule import MONTHLY, DigestPeriod
from dashboard.models import CostRollup
from orgadmin.access import may_open, may_use
from orgadmin.hygiene.selectors import hygiene_digest
from orgadmin.models import Organization
from orgadmin.views.security_summary import security_context

MOVER_DIMENSIONS = {"api_key_id": "API key", "project_id": "Project", "model": "Model"}
TOP_MOVERS = 3  # per dimension
ANOMALIES_SHOWN = 10


@dataclass(frozen=True)
class Digest:
    subject: str
    body: str


@dataclass(frozen=True)
class Mover:
    """A key, project or model whose cost rose against the period before."""

    dimension: str  # "API key", "Project", "Model"
    label: str  # its display name (the id when the directory doesn't know it)
    now: Decimal
    before: Decimal

    @property
    def rise(self) -> Decimal:
        return self.now - self.before


def absolute(path: str) -> str:
    """A path of ours as a link that works from a mail or a chat."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _page(user: Any, org: Organization, name: str, query: dict[str, str] | None = None) -> str:
    """The absolute URL of a page the person may open on `org`, else "" (no link offered)."""
    try:
        path = reverse(name)
    except NoReverseMatch:
        return ""
    if not may_use(user, name, org):
        return ""
    return absolute(f"{path}?{urlencode(query)}" if query else path)


def previous_period(kind: str, period: DigestPeriod) -> tuple[dt.date, dt.date]:
    """[start, end) of the period a digest compares with: the week before, or the month before."""
    if CADENCE[kind] == MONTHLY:
        before = (period.start - dt.timedelta(days=1)).replace(day=1)
        return before, period.start
    return period.start - (period.end - period.start), period.start


def period_label(kind: str, period: DigestPeriod) -> str:
    if CADENCE[kind] == MONTHLY:
        return period.start.strftime("%B %Y")
    first, last = period.start, period.last_day
    if first.year != last.year:
        return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"


def spend_movers(
    *, org: Organization, start: dt.date, middle: dt.date, end: dt.date, currency: str
) -> list[Mover]:
    """The keys, projects and models whose cost in [middle, end) rose most over [start, middle),
    TOP_MOVERS of each, biggest rise first (one query per dimension, plus the names)."""
    zero = Value(0, output_field=CostRollup._meta.get_field("amount"))
    found = []
    for dimension in MOVER_DIMENSIONS:
        rows = (
            CostRollup.objects.filter(
                org=org, dimension=dimension, day__gte=start, day__lt=end, currency=currency
            )
            .exclude(value="")
            .values("value")
            .annotate(
                now=Coalesce(Sum("amount", filter=Q(day__gte=middle)), zero),
                before=Coalesce(Sum("amount", filter=Q(day__lt=middle)), zero),
            )
            .annotate(rise=F("now") - F("before"))
            .filter(rise__gt=0)
            .order_by("-rise", "value")[:TOP_MOVERS]
        )
        found += [(dimension, r["value"], r["now"], r["before"]) for r in rows]
    names = selectors.names_for(org=org, ids=[f[1] for f in found if f[0] != "model"])
    movers = [
        Mover(MOVER_DIMENSIONS[dim], names.get(value, value), now, before)
        for dim, value, now, before in found
    ]
    return sorted(movers, key=lambda m: -m.rise)


def _spend(org: Organization, start: dt.date, middle: dt.date, end: dt.date) -> dict[str, Any]:
    """The period's and the period before's spend, in the main currency (one query)."""
    daily = selectors.daily_spend(org=org, start=start, end=end)
    currency = selectors.main_currency(daily)
    days = daily.get(currency, {})
    now = sum((v for d, v in days.items() if d >= middle), Decimal(0))
    before = sum((v for d, v in days.items() if d < middle), Decimal(0))
    return {"currency": currency, "total": now, "previous": before}


def _anomalies(user: Any, org: Organization) -> dict[str, Any]:
    open_states = [Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
    alerts = Alert.objects.filter(org=org, kind=Alert.Kind.ANOMALY, state__in=open_states)
    shown = list(alerts.order_by("-opened_at", "-pk")[:ANOMALIES_SHOWN])
    count = len(shown) if len(shown) < ANOMALIES_SHOWN else alerts.count()
    return {"anomalies": shown, "anomaly_count": count}


def _budgets(user: Any, org: Organization, today: dt.date) -> list[dict[str, Any]]:
    return [
        {"status": s, "url": absolute(s.costs_url) if may_open(user, s.costs_url, org) else ""}
        for s in budget_statuses(org=org, today=today)
    ]


def finance_context(
    *, user: Any, org: Organization, kind: str, period: DigestPeriod, now: dt.datetime
) -> dict[str, Any]:
    """What the Finance digest of `period` says, as of `now`."""
    tz = ZoneInfo(selectors.reporting_timezone(org=org))
    before_start, _ = previous_period(kind, period)
    spend = _spend(org, before_start, period.start, period.end)
    today = now.astimezone(tz).date()
    costs_query = {"start": period.start.isoformat(), "end": period.end.isoformat(), "tz": str(tz)}
    return {
        **spend,
        "change": tables.change(spend["total"], spend["previous"]),
        "month": tables.month_spend(org=org, today=today),
        "month_label": today.strftime("%B %Y"),
        "budgets": _budgets(user, org, today),
        "budgets_url": _page(user, org, "budgets"),
        "movers": spend_movers(
            org=org,
            start=before_start,
            middle=period.start,
            end=period.end,
            currency=spend["currency"],
        ),
        "costs_url": _page(user, org, "costs", costs_query),
        "overview_url": _page(user, org, "home"),
        **_anomalies(user, org),
        "inbox_url": _page(user, org, "alert_inbox"),
    }


def auditor_context(*, user: Any, org: Organization, now: dt.datetime) -> dict[str, Any]:
    """The Auditor's Overview security summary, its links made absolute."""
    security = security_context(org=org, now=now)["security"]
    for section in security["sections"]:
        section["url_7"] = absolute(section["url_7"])
        for event in section["latest"]:
            event["url"] = absolute(event["url"])
    for key in security["admin"]["keys"]:
        key["url_7"] = absolute(key["url_7"])
    for event in security["admin"]["latest"]:
        event["url"] = absolute(event["url"])
    return {
        "security": security,
        "audit_log_url": _page(user, org, "orgadmin:audit_log"),
        # Open hygiene findings (orgadmin/hygiene/): accepted ones stay out until their day.
        "hygiene": hygiene_digest(org=org, now=now, since=now - dt.timedelta(days=7)),
        "hygiene_url": _page(user, org, "hygiene"),
    }


def digest_build(
    *, user: Any, org: Organization, kind: str, period: DigestPeriod, now: dt.datetime
) -> Digest:
    """The digest `kind` of `period` for `user` on `org`: subject and plain-text body."""
    label = period_label(kind, period)
    context: dict[str, Any] = {
        "org": org,
        "kind": Kind(kind),
        "period": period,
        "period_label": label,
        "weekly": CADENCE[kind] != MONTHLY,
        "digests_url": absolute(reverse("digests")),
    }
    if kind == Kind.AUDITOR_WEEKLY:
        context.update(auditor_context(user=user, org=org, now=now))
        template, title = "digests/auditor.txt", "Weekly security digest"
    else:
        context.update(finance_context(user=user, org=org, kind=kind, period=period, now=now))
        weekly = context["weekly"]
        template, title = "digests/finance.txt", ("Weekly" if weekly else "Monthly") + " spend"
    body = render_to_string(template, context).strip() + "\n"
    return Digest(subject=f"{title}: {org.name}, {label}"[:200], body=body)
