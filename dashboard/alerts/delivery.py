"""One try at a delivery, logged as a DeliveryAttempt; what the `deliver` task runs.

The task retries with exponential backoff (`backoff_seconds`) until ALERT_DELIVERY_MAX_ATTEMPTS;
a delivery that exhausts them is given up, and its channel's failures in a row grow until it is
flagged (ALERT_CHANNEL_FLAG_AFTER), which every Admin of its connections sees on every page: no
alert fails silently. A sent delivery starts the count again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard.alerts import send
from dashboard.alerts.models import Channel, ChannelUnreadable, Delivery, DeliveryAttempt
from dashboard.alerts.targets import TargetRefused, operator_named, webhook_url
from orgadmin.client import public_transport

log = logging.getLogger(__name__)

# A delivery untouched this long past when it was due lost its task: the broker refused it after
# the commit, or its worker died in a way that didn't give the message back. Well past any retry
# countdown, so a task still waiting isn't doubled.
STALLED_AFTER = timezone.timedelta(minutes=30)
RESUMED_AT_ONCE = 500


def deliveries_stalled(*, now: Any) -> list[int]:
    """The deliveries to queue again: never tried since they were queued, or not retried since
    their next try was due, STALLED_AFTER ago (what the beat's `resume_deliveries` runs)."""
    before = now - STALLED_AFTER
    waiting = Q(status=Delivery.Status.QUEUED, attempts=0, created_at__lt=before) | Q(
        status=Delivery.Status.FAILED, next_attempt_at__lt=before
    )
    return list(
        Delivery.objects.filter(waiting)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:RESUMED_AT_ONCE]
    )


def backoff_seconds(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: 30, 60, 120, 240… (capped)."""
    base = settings.ALERT_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.ALERT_RETRY_MAX_SECONDS)


def _send_once(channel: Channel, delivery: Delivery) -> send.Outcome:
    message = send.Message(
        delivery_id=delivery.pk,
        subject=delivery.subject,
        body=delivery.body,
        topic=delivery.topic,
        payload=delivery.payload,
    )
    try:
        url = channel.url
        if channel.kind != Channel.Kind.WEBHOOK:
            return send.send_apprise(url, message=message)
        target = webhook_url(url)
        return send.send_webhook(
            target,
            secret=channel.secret,
            message=message,
            timeout=settings.ALERT_SEND_TIMEOUT,
            transport=None if operator_named(target) else public_transport(),
        )
    except ChannelUnreadable as exc:
        return send.Outcome(False, str(exc))
    except TargetRefused as exc:  # allowed when added, refused by today's settings
        return send.Outcome(False, f"This channel's URL is refused now: {exc.message}")


def delivery_attempt(*, delivery: Delivery) -> Delivery:
    """Try a delivery once and log the attempt. Sent: done, and the channel's failures in a row
    start again. Failed: retried later (`next_attempt_at`), or given up after the last attempt."""
    channel = delivery.channel
    started = timezone.now()
    outcome = _send_once(channel, delivery)
    now = timezone.now()
    with transaction.atomic():
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started,
            duration_ms=outcome.duration_ms,
            ok=outcome.ok,
            error=outcome.error,
            http_status=outcome.http_status,
        )
        if outcome.ok:
            _sent(delivery, channel, now)
        elif delivery.attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
            _given_up(delivery, channel, now, outcome.error)
        else:
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt_at = now + timezone.timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
            Channel.objects.filter(pk=channel.pk).update(
                last_failure_at=now, last_failure_message=outcome.error
            )
        delivery.save(update_fields=["attempts", "status", "next_attempt_at", "finished_at"])
    return delivery


def _sent(delivery: Delivery, channel: Channel, now: Any) -> None:
    delivery.status = Delivery.Status.SENT
    delivery.finished_at, delivery.next_attempt_at = now, None
    Channel.objects.filter(pk=channel.pk).update(consecutive_failures=0, last_success_at=now)


def _given_up(delivery: Delivery, channel: Channel, now: Any, error: str) -> None:
    delivery.status = Delivery.Status.GIVEN_UP
    delivery.finished_at, delivery.next_attempt_at = now, None
    Channel.objects.filter(pk=channel.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_failure_at=now,
        last_failure_message=error,
    )
    log.warning(
        "alert delivery %s to channel %s given up after %s attempts",
        delivery.pk,
        channel.pk,
        delivery.attempts,
    )
