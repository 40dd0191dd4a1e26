"""Reads for the digests page and for sending: our tables only, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, QuerySet, Subquery

from dashboard.alerts.models import Channel
from dashboard.digests.models import (
    CADENCE,
    DESCRIPTION,
    PERMISSION,
    ROLES_NEEDED,
    Dispatch,
    Kind,
    Subscription,
)
from dashboard.digests.schedule import MONTHLY, DigestPeriod, next_due
from dashboard.selectors import reporting_timezone
from orgadmin.access import holds
from orgadmin.models import Organization


def may_get(*, user: Any, org: Organization, kind: str) -> bool:
    """Whether `user`'s roles on `org` let them have the digest `kind`."""
    return bool(user.is_active) and holds(user, PERMISSION[kind], org=org)


def channels_offered(*, org: Organization) -> QuerySet[Channel]:
    """The enabled alert channels that carry `org`'s alerts: its own, then those for all
    connections (one query). Only their names and masked URLs are ever shown."""
    carrying = Q(org__isnull=True) | Q(org=org)
    return Channel.objects.filter(carrying, disabled=False).order_by("name", "pk")


def why_not_sent(*, subscription: Subscription) -> str:
    """Why the digest can't go out now, as its owner reads it; "" when it can. Asked again at
    every send: a person who lost the role stops getting it."""
    user, org, kind = subscription.user, subscription.org, subscription.kind
    if not may_get(user=user, org=org, kind=kind):
        return (
            f"You no longer hold {ROLES_NEEDED[kind]} on {org.name}, which this digest needs: "
            "it is not sent until you do."
        )
    if subscription.where == Subscription.Where.EMAIL:
        if not user.email:
            return "Your account has no email address: pick an alert channel instead."
        return ""
    channel = subscription.channel
    if channel is None:
        return "The alert channel this digest went to was removed: pick where it goes now."
    if channel.org_id not in (None, org.pk):
        return f"The channel “{channel.name}” no longer carries {org.name}: pick another."
    if channel.disabled:
        return f"The channel “{channel.name}” is paused: digests skip it until it is resumed."
    return ""


@dataclass
class DigestRow:
    """One digest on the person's page."""

    kind: Kind
    allowed: bool  # their roles on the connection allow it
    subscription: Subscription | None
    last: Dispatch | None  # the latest sent or tried, a preview included
    next_period: DigestPeriod
    tz: ZoneInfo
    blocker: str  # why it would not be sent now ("" when it would)
    form: Any = None  # the page's form for it (the view sets it)

    @property
    def description(self) -> str:
        return DESCRIPTION[self.kind]

    @property
    def roles_needed(self) -> str:
        return ROLES_NEEDED[self.kind]

    @property
    def enabled(self) -> bool:
        return bool(self.subscription and self.subscription.enabled)

    @property
    def unit(self) -> str:
        return "month" if CADENCE[self.kind] == MONTHLY else "week"

    @property
    def schedule(self) -> str:
        if CADENCE[self.kind] == MONTHLY:
            return f"On the 1st of each month at about 08:00 ({self.tz}), for the month before."
        return f"Every Monday at about 08:00 ({self.tz}), for the week before (Monday to Sunday)."

    @property
    def next_label(self) -> str:
        """When the next one is due, in the reporting timezone ("Mon, Mar 10 at 08:00")."""
        local = self.next_period.due_at.astimezone(self.tz)
        return f"{local:%a, %b} {local.day} at {local:%H:%M}"


def digest_rows(*, user: Any, org: Organization, now: dt.datetime) -> list[DigestRow]:
    """The digests `user` may have on `org`, and those they had and lost the role for, each with
    their choice and its latest dispatch (four queries at most: the reporting timezone, the
    person's grants, their choices, the latest dispatches)."""
    tz = ZoneInfo(reporting_timezone(org=org))
    latest = Dispatch.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-pk")
    subscriptions = {
        s.kind: s
        for s in Subscription.objects.filter(user=user, org=org)
        .select_related("channel")
        .annotate(last_id=Subquery(latest.values("pk")[:1]))
    }
    for sub in subscriptions.values():  # the person and connection at hand: their grants read once
        sub.user, sub.org = user, org
    ids = [s.last_id for s in subscriptions.values() if s.last_id]
    dispatches = Dispatch.objects.select_related("delivery").in_bulk(ids)
    rows = []
    for kind in Kind:
        subscription = subscriptions.get(kind)
        allowed = may_get(user=user, org=org, kind=kind)
        if not allowed and not (subscription and subscription.enabled):
            continue
        rows.append(
            DigestRow(
                kind=kind,
                allowed=allowed,
                subscription=subscription,
                last=dispatches.get(subscription.last_id) if subscription else None,
                next_period=next_due(CADENCE[kind], now=now, tz=tz),
                tz=tz,
                blocker=why_not_sent(subscription=subscription) if subscription else "",
            )
        )
    return rows


def preview_last(*, subscription: Subscription) -> dt.datetime | None:
    """When its owner last asked for a preview of it (one query)."""
    return (
        Dispatch.objects.filter(subscription=subscription, preview=True)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
