"""Writes for alert channels: add, remove, pause, and every delivery and its attempts.

`notify(...)` is how anything sends an alert: it records one Delivery per channel and queues
`deliver` for each once the transaction commits (dashboard/alerts/delivery.py is what the task
does). Nothing here logs or stores a channel's URL in clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.alerts.models import Alert, Channel, Delivery
from dashboard.alerts.targets import Target, TargetRefused, target_of
from dashboard.alerts.tasks import deliver
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused

TEST_SUBJECT = "Test alert from Org Dashboard"


def channel_create(
    *, org: Organization | None, name: str, url: str, created_by: Any = None
) -> tuple[Channel, str]:
    """Add a channel for `org` (None: every connection); returns it and its webhook signing
    secret ("" for the other kinds), which is shown once and never again."""
    try:
        target: Target = target_of(url)
    except TargetRefused as exc:
        raise ChangeRefused(exc.message, field="url") from None
    channel = Channel(org=org, name=name.strip(), created_by=created_by)
    channel.set_target(target)
    secret = channel.new_secret() if target.kind == Channel.Kind.WEBHOOK else ""
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError:
        raise ChangeRefused("A channel has this name already.", field="name") from None
    _record(created_by, channel, "create", f"Added the alert channel “{channel.name}”")
    return channel, secret


def channel_delete(*, channel: Channel, actor: Any = None) -> None:
    """Remove a channel with its deliveries and their attempts."""
    with transaction.atomic():
        _record(actor, channel, "delete", f"Removed the alert channel “{channel.name}”")
        channel.delete()


def channel_set_disabled(*, channel: Channel, disabled: bool, actor: Any = None) -> None:
    """Pause a channel (notify() leaves it out) or resume it."""
    with transaction.atomic():
        channel.disabled = disabled
        channel.save(update_fields=["disabled"])
        verb = "Paused" if disabled else "Resumed"
        action = "disable" if disabled else "enable"
        _record(actor, channel, action, f"{verb} the alert channel “{channel.name}”")


def _record(actor: Any, channel: Channel, action: str, summary: str) -> None:
    """One line in our action log (the Activity page): who changed which channel. Its masked
    URL only, never the URL."""
    where = "all connections" if channel.for_all else "this connection"
    action_record(
        actor=actor,
        org=channel.org,
        action=f"alert_channel.{action}",
        summary=f"{summary} ({channel.get_kind_display()}, {channel.url_masked}, {where})",
        resource_type="alert_channel",
        resource_id=str(channel.pk),
    )


def channels_for(*, org: Organization | None) -> list[Channel]:
    """The enabled channels that carry `org`'s alerts: its own and those for every connection."""
    scope = Q(org__isnull=True) | Q(org=org) if org is not None else Q(org__isnull=True)
    return list(Channel.objects.filter(scope, disabled=False))


def notify(
    *,
    org: Organization | None,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    channels: Iterable[Channel] | None = None,
    topic: str = "alert",
    requested_by: Any = None,
    alert: Alert | None = None,
) -> list[Delivery]:
    """Send an alert to `channels` (default: every enabled channel of `org`, its own and those
    for all connections): one queued Delivery each, sent by the `deliver` task after commit."""
    targets = channels_for(org=org) if channels is None else list(channels)
    deliveries = [
        Delivery.objects.create(
            channel=channel,
            org=org,
            topic=topic[:40],
            subject=subject[:200],
            body=body,
            payload=payload or {},
            requested_by=requested_by,
            alert=alert,
        )
        for channel in targets
    ]
    for delivery in deliveries:
        deliver.delay_on_commit(delivery.pk)
    return deliveries


def channel_test(*, channel: Channel, requested_by: Any = None) -> Delivery:
    """Queue a test message to one channel (its outcome shows on the channel's deliveries)."""
    who = getattr(requested_by, "username", "") or "someone"
    body = (
        f"This is a test of the alert channel “{channel.name}”, sent by {who} from Org "
        "Dashboard. Budget and anomaly alerts will arrive here the same way."
    )
    payload = {"test": True, "channel": channel.name}
    (delivery,) = notify(
        org=channel.org,
        subject=TEST_SUBJECT,
        body=body,
        payload=payload,
        channels=[channel],
        topic="test",
        requested_by=requested_by,
    )
    return delivery


def alert_raise(
    *,
    org: Organization,
    kind: str,
    key: str,
    title: str,
    summary: str,
    details: dict[str, Any] | None = None,
    ongoing: bool = True,
) -> tuple[Alert, bool]:
    """Raise the alert `key` of `org`, or update it if it was raised before (its title, summary,
    details). Returns it and whether it is new; only a new one is sent to the channels, so a
    check that runs after every sync alerts once. Atomic: no alert without its deliveries."""
    now = timezone.now()
    with transaction.atomic():
        alert, created = Alert.objects.select_for_update().get_or_create(
            org=org,
            kind=kind,
            key=key[:300],
            defaults={
                "title": title[:200],
                "summary": summary,
                "details": details or {},
                "ongoing": ongoing,
                "opened_at": now,
                "updated_at": now,
            },
        )
        if created:
            notify(
                org=org,
                subject=alert.title,
                body=summary,
                payload={
                    "alert_id": alert.pk,
                    "kind": kind,
                    "state": alert.state,
                    **(details or {}),
                },
                topic=kind,
                alert=alert,
            )
            return alert, True
        alert.title, alert.summary, alert.details = title[:200], summary, details or {}
        alert.updated_at = now
        if ongoing and not alert.ongoing:  # back again (e.g. the episode grew a day)
            alert.ongoing, alert.ended_at = True, None
        alert.save(
            update_fields=["title", "summary", "details", "updated_at", "ongoing", "ended_at"]
        )
        return alert, False


def alert_end(*, alert: Alert, summary: str | None = None) -> Alert:
    """The alert's condition is over (an anomaly's normal day came): no longer ongoing, and
    resolved unless people marked it expected. The channels hear that it ended, once."""
    if not alert.ongoing:
        return alert
    now = timezone.now()
    with transaction.atomic():
        alert.ongoing, alert.ended_at, alert.updated_at = False, now, now
        if summary is not None:
            alert.summary = summary
        if alert.state in (Alert.State.OPEN, Alert.State.ACKNOWLEDGED):
            alert.state = Alert.State.RESOLVED
        alert.save(update_fields=["ongoing", "ended_at", "updated_at", "summary", "state"])
        if alert.state == Alert.State.RESOLVED:
            notify(
                org=alert.org,
                subject=f"Ended: {alert.title}"[:200],
                body=alert.summary,
                payload={"alert_id": alert.pk, "kind": alert.kind, "state": alert.state},
                topic=alert.kind,
                alert=alert,
            )
    return alert


def alert_state_set(*, alert: Alert, state: str, actor: Any) -> Alert:
    """A person acknowledges, resolves, marks expected or reopens an alert; recorded with who
    and when (the inbox shows it) and in the action log."""
    if state not in Alert.State.values:
        raise ChangeRefused("That is not a state an alert can have.", field="state")
    with transaction.atomic():
        alert.state = state
        alert.state_by, alert.state_at = actor, timezone.now()
        alert.save(update_fields=["state", "state_by", "state_at"])
        action_record(
            actor=actor,
            org=alert.org,
            action=f"alert.{state}",
            summary=f"Set the alert “{alert.title}” to {alert.get_state_display().lower()}",
            resource_type="alert",
            resource_id=str(alert.pk),
        )
    return alert
