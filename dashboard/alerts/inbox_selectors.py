"""Reads for the alert inbox: our tables only, a fixed number of queries each, whatever the
number of alerts (the list is paged by the view)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from dashboard.alerts.models import Alert, Delivery, DeliveryAttempt
from dashboard.models import CostRollup
from orgadmin.models import Organization

CHART_DAYS_BEFORE = 28  # the anomaly chart shows four weeks before the episode
CHART_DAYS_AFTER = 7


def alerts_list(*, org: Organization, state: str = "", kind: str = "") -> QuerySet[Alert]:
    """The organization's alerts, newest first, with who moved their state and their
    deliveries (channel and status): a page of it costs 2 queries, and the paginator's count."""
    deliveries = Prefetch(
        "deliveries",
        queryset=Delivery.objects.select_related("channel")
        .only("pk", "alert_id", "status", "subject", "created_at", "channel__name")
        .order_by("created_at", "pk"),
    )
    rows = Alert.objects.filter(org=org).select_related("state_by").prefetch_related(deliveries)
    if state:
        rows = rows.filter(state=state)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-opened_at", "-pk")


def alert_counts(*, org: Organization) -> dict[str, int]:
    """How many of the organization's alerts are in each state (one query)."""
    rows = Alert.objects.filter(org=org).values("state").annotate(n=Count("pk")).order_by()
    return {row["state"]: row["n"] for row in rows}


def alert_get(*, org: Organization, alert_id: int) -> Alert | None:
    """One alert of `org`, else None: another connection's is not found (one query)."""
    return Alert.objects.filter(org=org, pk=alert_id).select_related("state_by").first()


def alert_deliveries(*, alert: Alert) -> list[Delivery]:
    """Every message sent of the alert, oldest first, with its channel and attempts (2 queries)."""
    attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
    return list(
        Delivery.objects.filter(alert=alert)
        .select_related("channel")
        .prefetch_related(attempts)
        .order_by("created_at", "pk")
    )


def anomaly_daily_cost(*, alert: Alert) -> list[tuple[dt.date, Decimal]]:
    """An anomaly's group's cost per UTC day, from four weeks before its episode to a week
    after (or yesterday), every day listed (0 without cost); empty for any other alert (one
    query)."""
    details = alert.details or {}
    group, start, end = details.get("group"), details.get("start"), details.get("end")
    if alert.kind != Alert.Kind.ANOMALY or not (group and start and end):
        return []
    first = dt.date.fromisoformat(start) - dt.timedelta(days=CHART_DAYS_BEFORE)
    last = dt.date.fromisoformat(end) + dt.timedelta(days=CHART_DAYS_AFTER)
    rows = (
        CostRollup.objects.filter(
            org_id=alert.org_id,
            dimension=group[0],
            value=group[1],
            currency=details.get("currency", "usd"),
            day__gte=first,
            day__lte=last,
        )
        .values("day")
        .annotate(amount=Sum("amount"))
        .order_by("day")
    )
    found = {row["day"]: row["amount"] for row in rows}
    if not found:
        return []
    # Complete days only: today's cost is still coming in.
    last = min(last, max(found), timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1))
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [(day, found.get(day, Decimal(0))) for day in days]
