"""Reminders to reviewers with items still undecided: through the connection's alert channels
(issue 15) and by email, at most once a day (UTC) per reviewer per campaign, each recorded.

The alert channels live in the dashboard app (`dashboard.alerts.services.notify`), which
orgadmin never imports: the dashboard hands its `notify` in when it starts
(`reminder_notifier_set`, from DashboardConfig.ready). Without it, reminders go by email only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from orgadmin.reviews.models import Campaign, Item, Reminder, Reviewer

log = logging.getLogger(__name__)

Notifier = Callable[..., list[Any]]  # notify(org=, subject=, body=, payload=, topic=) -> sent
_notifier: list[Notifier] = []


def reminder_notifier_set(notifier: Notifier | None) -> None:
    """Install what sends a reminder to the alert channels (None removes it)."""
    _notifier[:] = [notifier] if notifier else []


@dataclass
class ReminderOutcome:
    sent: list[str] = field(default_factory=list)  # reviewers reminded now
    already: list[str] = field(default_factory=list)  # reminded earlier today


def _undecided_by_reviewer(campaign: Campaign) -> dict[int, tuple[Any, int]]:
    """Reviewer's user id → (the user, their undecided items)."""
    per_project = dict(
        Item.objects.filter(campaign=campaign, decision="")
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    found: dict[int, list[Any]] = defaultdict(lambda: [None, 0])
    for reviewer in Reviewer.objects.filter(campaign=campaign, user__isnull=False).select_related(
        "user"
    ):
        entry = found[reviewer.user_id]
        entry[0] = reviewer.user
        entry[1] += per_project.get(reviewer.project_id, 0)
    return {pk: (user, n) for pk, (user, n) in found.items() if n and user.is_active}


def _text(campaign: Campaign, user: Any, undecided: int) -> tuple[str, str, str]:
    link = settings.SITE_URL.rstrip("/") + reverse("review_items", args=[campaign.pk])
    subject = f"Access review “{campaign.name}”: {undecided} to decide"
    body = (
        f"{user.get_username()}, {undecided} access paths of {campaign.org.name} are waiting for "
        f"your decision in the access review “{campaign.name}”, due {campaign.due_on:%Y-%m-%d}."
        f"\n\nKeep or revoke each: {link}\n"
    )
    return subject, body, link


def _remind(campaign: Campaign, user: Any, undecided: int, day: Any) -> bool:
    """Remind one reviewer, unless they were today already. True when reminded now."""
    subject, body, link = _text(campaign, user, undecided)
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                campaign=campaign, user=user, day=day, undecided=undecided
            )
            if _notifier:
                payload = {
                    "campaign": campaign.name,
                    "reviewer": user.get_username(),
                    "undecided": undecided,
                    "url": link,
                }
                sent = _notifier[0](
                    org=campaign.org,
                    subject=subject,
                    body=body,
                    payload=payload,
                    topic="access_review",
                )
                reminder.channels = len(sent)
                reminder.save(update_fields=["channels"])
    except IntegrityError:  # another run reminded them today
        return False
    if user.email:
        try:
            send_mail(subject, body, None, [user.email])
            reminder.emailed = True
        except Exception as exc:
            log.warning("access review reminder mail failed: %s", type(exc).__name__)
            reminder.email_error = f"{type(exc).__name__}: {exc}"[:300]
        reminder.save(update_fields=["emailed", "email_error"])
    return True


def reminders_send(*, campaign: Campaign) -> ReminderOutcome:
    """Remind every reviewer of an open campaign who has undecided items, once a day."""
    outcome = ReminderOutcome()
    if not campaign.is_open:
        return outcome
    day = timezone.now().astimezone(dt.UTC).date()
    for user, undecided in _undecided_by_reviewer(campaign).values():
        reminded = _remind(campaign, user, undecided, day)
        (outcome.sent if reminded else outcome.already).append(user.get_username())
    return outcome


def reminders_send_all() -> int:
    """The beat's run: every open campaign's reminders; how many reviewers were reminded."""
    count = 0
    for campaign in Campaign.objects.filter(closed_at__isnull=True).select_related("org"):
        count += len(reminders_send(campaign=campaign).sent)
    return count
