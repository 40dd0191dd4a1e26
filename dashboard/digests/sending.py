"""Sending digests: what the beat finds due, and one attempt at a dispatch. The tasks run these.

Once per period: `digests_due` records one Dispatch per enabled subscription and due period,
and the unique (subscription, period) constraint refuses a second, however often the beat runs
or how many beats run at once.

Not lost, not doubled, whatever dies when: `dispatch_send` first claims the dispatch (one
conditional UPDATE: only one worker wins it, for LEASE); a worker killed mid-send leaves it
claimed until the lease passes, then the next beat queues it again. A digest for a channel is
handed to `notify` (a Delivery, with the alerts' retries and attempt log) in the same
transaction that marks it sent, so a retry never makes a second delivery. A mail is sent with a
Message-ID of its own, the same at every attempt: in the one case no sender can rule out (the
SMTP server took it, the worker died before writing that down) the copy sent again is the same
message, which mail systems recognise. A failed mail is retried with backoff, shown on the
person's page, and given up after MAX_ATTEMPTS, never silently.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from dashboard.alerts.delivery import backoff_seconds
from dashboard.alerts.services import notify
from dashboard.digests.content import absolute, digest_build
from dashboard.digests.models import Dispatch, Subscription
from dashboard.digests.schedule import DigestPeriod, due_moment, latest_due
from dashboard.digests.selectors import why_not_sent
from dashboard.models import ReportingSettings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = dt.timedelta(minutes=10)
BATCH = 500  # dispatches queued per beat at most; the next beat takes the rest


def _claimable(now: dt.datetime) -> Q:
    waiting = Q(
        status__in=[Dispatch.Status.QUEUED, Dispatch.Status.FAILED], next_attempt_at__lte=now
    )
    abandoned = Q(status=Dispatch.Status.SENDING, lease_until__lt=now)
    return (waiting | abandoned) & Q(attempts__lt=MAX_ATTEMPTS)


def _claim(dispatch_id: int, now: dt.datetime) -> bool:
    """Take the dispatch for one attempt: True for the one worker that gets it."""
    won = Dispatch.objects.filter(_claimable(now), pk=dispatch_id).update(
        status=Dispatch.Status.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1
    )
    return won == 1


def _timezones() -> dict[int, ZoneInfo]:
    return {
        org_id: ZoneInfo(name)
        for org_id, name in ReportingSettings.objects.values_list("org_id", "timezone")
        if name
    }


def _record_due(now: dt.datetime) -> None:
    """One Dispatch for each enabled subscription's latest due period, unless it has one (the
    unique constraint decides: two beats at once can't both record it). A period that was due
    before the subscription was turned on is not sent."""
    zones = _timezones()
    rows = []
    for sub in Subscription.objects.filter(enabled=True).only("pk", "org_id", "kind", "enabled_at"):
        period = latest_due(sub.cadence, now=now, tz=zones.get(sub.org_id, ZoneInfo("UTC")))
        if sub.enabled_at is not None and sub.enabled_at > period.due_at:
            continue
        rows.append(
            Dispatch(
                subscription=sub,
                period_start=period.start,
                period_end=period.end,
                next_attempt_at=now,
                created_at=now,
            )
        )
    Dispatch.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def digests_due(*, now: dt.datetime | None = None) -> list[int]:
    """What a beat does: record the periods now due, give up on dispatches out of attempts, and
    return the ids of the dispatches to send now (new, to retry, or abandoned by a worker).
    A channel's delivery whose task was lost is the alerts' `resume_deliveries`'s to queue
    again."""
    now = now or timezone.now()
    _record_due(now)
    Dispatch.objects.filter(
        status=Dispatch.Status.SENDING, lease_until__lt=now, attempts__gte=MAX_ATTEMPTS
    ).update(
        status=Dispatch.Status.GIVEN_UP,
        lease_until=None,
        error="The last attempt stopped before it finished (its worker stopped); given up.",
    )
    ready = Dispatch.objects.filter(_claimable(now)).order_by("next_attempt_at", "pk")
    return list(ready.values_list("pk", flat=True)[:BATCH])


def dispatch_period(dispatch: Dispatch) -> DigestPeriod:
    tz = _timezones().get(dispatch.subscription.org_id, ZoneInfo("UTC"))
    due = due_moment(dispatch.period_end, tz)
    return DigestPeriod(dispatch.period_start, dispatch.period_end, due)


def dispatch_send(*, dispatch_id: int, now: dt.datetime | None = None) -> Dispatch | None:
    """One attempt at a dispatch, if this worker wins it (None: another has it, or it is done).
    Checks the person may still have it, makes the digest once, and sends it to their email or
    hands it to their channel."""
    now = now or timezone.now()
    if not _claim(dispatch_id, now):
        return None
    dispatch = Dispatch.objects.select_related(
        "subscription__user", "subscription__org", "subscription__channel"
    ).get(pk=dispatch_id)
    subscription = dispatch.subscription
    reason = why_not_sent(subscription=subscription)
    if reason:
        return _finish(dispatch, Dispatch.Status.SKIPPED, now, error=reason)
    try:
        if not dispatch.body:
            _make(dispatch, now)
        if subscription.where == Subscription.Where.CHANNEL:
            return _hand_to_channel(dispatch, now)
        _mail(dispatch)
    except Exception as exc:  # any failure is shown and retried, never lost
        log.warning("digest dispatch %s failed: %s", dispatch.pk, exc, exc_info=True)
        return _failed(dispatch, now, f"{type(exc).__name__}: {exc}"[:1000])
    dispatch.destination = subscription.user.email
    return _finish(dispatch, Dispatch.Status.SENT, now)


def _make(dispatch: Dispatch, now: dt.datetime) -> None:
    sub = dispatch.subscription
    digest = digest_build(
        user=sub.user, org=sub.org, kind=sub.kind, period=dispatch_period(dispatch), now=now
    )
    prefix = "Preview: " if dispatch.preview else ""
    dispatch.subject, dispatch.body = (prefix + digest.subject)[:200], digest.body
    dispatch.save(update_fields=["subject", "body"])


def _mail(dispatch: Dispatch) -> None:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    message = EmailMessage(
        subject=dispatch.subject,
        body=dispatch.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[dispatch.subscription.user.email],
        headers={
            # The same at every attempt: a copy sent again is recognised as the same message.
            "Message-ID": f"<digest-{dispatch.pk}@{host}>",
            "List-Unsubscribe": f"<{absolute(reverse('digests'))}>",
        },
    )
    message.send(fail_silently=False)


def _hand_to_channel(dispatch: Dispatch, now: dt.datetime) -> Dispatch:
    sub = dispatch.subscription
    channel = sub.channel
    with transaction.atomic():
        (delivery,) = notify(
            org=sub.org,
            subject=dispatch.subject,
            body=dispatch.body,
            payload={
                "digest": sub.kind,
                "period_start": dispatch.period_start.isoformat(),
                "period_end": dispatch.period_end.isoformat(),
                "preview": dispatch.preview,
            },
            channels=[channel],
            topic="digest",
            requested_by=sub.user,
        )
        dispatch.delivery = delivery
        dispatch.destination = f"“{channel.name}” ({channel.get_kind_display()})"
        return _finish(dispatch, Dispatch.Status.SENT, now)


def _finish(dispatch: Dispatch, status: str, now: dt.datetime, *, error: str = "") -> Dispatch:
    dispatch.status, dispatch.error, dispatch.lease_until = status, error, None
    if status == Dispatch.Status.SENT:
        dispatch.sent_at = now
    fields = ["status", "error", "lease_until", "sent_at", "next_attempt_at", "destination"]
    dispatch.save(update_fields=[*fields, "delivery"])
    return dispatch


def _failed(dispatch: Dispatch, now: dt.datetime, error: str) -> Dispatch:
    if dispatch.attempts >= MAX_ATTEMPTS:
        return _finish(dispatch, Dispatch.Status.GIVEN_UP, now, error=error)
    dispatch.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(dispatch.attempts))
    return _finish(dispatch, Dispatch.Status.FAILED, now, error=error)
