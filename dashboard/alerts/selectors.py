"""Reads for the alert pages: our tables only, a fixed number of queries each."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet

from dashboard.alerts.models import Channel, Delivery, DeliveryAttempt
from orgadmin.models import Organization

DELIVERIES_SHOWN = 50


def _carrying(org: Organization) -> Q:
    """The channels that carry a connection's alerts: its own, and those for all connections."""
    return Q(org=org) | Q(org__isnull=True)


def channels_list(*, org: Organization) -> QuerySet[Channel]:
    """The connection's channels, then those for all connections (one query)."""
    return Channel.objects.filter(_carrying(org)).order_by(
        F("org_id").asc(nulls_last=True), "name", "pk"
    )


def channel_get(*, org: Organization, channel_id: int) -> Channel | None:
    """One channel that carries `org`'s alerts, else None (another connection's is not found)."""
    return Channel.objects.filter(_carrying(org), pk=channel_id).first()


def channel_deliveries(*, channel: Channel, limit: int = DELIVERIES_SHOWN) -> list[Delivery]:
    """The channel's latest deliveries, newest first, each with its attempts (two queries)."""
    attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
    return list(
        Delivery.objects.filter(channel=channel)
        .select_related("requested_by")
        .prefetch_related(attempts)
        .order_by("-created_at", "-pk")[:limit]
    )


def channels_failing(*, org: Organization) -> list[Channel]:
    """The enabled channels carrying `org`'s alerts that are flagged: their last
    ALERT_CHANNEL_FLAG_AFTER deliveries were given up on (one query)."""
    return list(
        Channel.objects.filter(
            _carrying(org),
            disabled=False,
            consecutive_failures__gte=settings.ALERT_CHANNEL_FLAG_AFTER,
        )
        .only("pk", "name", "consecutive_failures", "last_failure_at", "last_failure_message")
        .order_by("name", "pk")
    )
