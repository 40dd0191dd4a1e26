"""Writes for the digests page: a person's choice of digest and where it goes, and a preview."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from dashboard.alerts.models import Channel
from dashboard.digests.models import CADENCE, ROLES_NEEDED, Dispatch, Subscription
from dashboard.digests.schedule import latest_due
from dashboard.digests.selectors import may_get, preview_last
from dashboard.digests.tasks import digest_send
from dashboard.selectors import reporting_timezone
from orgadmin.models import Organization
from orgadmin.services.changes import ChangeRefused

PREVIEW_EVERY = dt.timedelta(minutes=5)  # per digest and person


def subscription_save(
    *,
    user: Any,
    org: Organization,
    kind: str,
    enabled: bool,
    channel: Channel | None,
    now: dt.datetime | None = None,
) -> Subscription:
    """Turn a digest on or off for `user` on `org`, sent to `channel` (None: their email).
    Turning one on needs the role; turning one off never does."""
    now = now or timezone.now()
    if enabled and not may_get(user=user, org=org, kind=kind):
        raise ChangeRefused(f"This digest is for {ROLES_NEEDED[kind]} on {org.name}.")
    with transaction.atomic():
        sub, _ = Subscription.objects.select_for_update().get_or_create(
            user=user, org=org, kind=kind
        )
        if enabled and not sub.enabled:
            sub.enabled_at = now
        sub.enabled = enabled
        sub.where = Subscription.Where.CHANNEL if channel else Subscription.Where.EMAIL
        sub.channel = channel
        sub.updated_at = now
        sub.save()
    return sub


def preview_request(
    *, user: Any, org: Organization, kind: str, now: dt.datetime | None = None
) -> Dispatch:
    """Queue a preview of the digest `kind` (its latest period) to where the person chose (their
    email until they chose), at most once every PREVIEW_EVERY per digest."""
    now = now or timezone.now()
    if not may_get(user=user, org=org, kind=kind):
        raise ChangeRefused(f"This digest is for {ROLES_NEEDED[kind]} on {org.name}.")
    with transaction.atomic():
        sub, _ = Subscription.objects.select_for_update().get_or_create(
            user=user, org=org, kind=kind
        )
        last = preview_last(subscription=sub)
        if last is not None and now - last < PREVIEW_EVERY:
            wait = int((PREVIEW_EVERY - (now - last)).total_seconds() // 60) + 1
            raise ChangeRefused(
                f"A preview was queued a moment ago: ask again in {wait} minute(s), or look "
                "at its outcome below."
            )
        period = latest_due(CADENCE[kind], now=now, tz=ZoneInfo(reporting_timezone(org=org)))
        dispatch = Dispatch.objects.create(
            subscription=sub,
            period_start=period.start,
            period_end=period.end,
            preview=True,
            next_attempt_at=now,
            created_at=now,
        )
        digest_send.delay_on_commit(dispatch.pk)
    return dispatch
