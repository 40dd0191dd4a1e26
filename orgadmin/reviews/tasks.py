"""Celery tasks of access reviews: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from orgadmin.reviews.models import Item
from orgadmin.reviews.reminders import reminders_send_all
from orgadmin.reviews.revoke import revocation_carry_out


@shared_task(acks_late=True)
def revocation_run(item_id: int) -> str:
    """Carry out one revocation of a campaign that allows it automatically, as the reviewer
    who decided it; the outcome ("done", "gone", "failed") or "skipped"."""
    decided_by = Item.objects.filter(pk=item_id).values_list("decided_by", flat=True).first()
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=decided_by).first() if decided_by else None
    item = revocation_carry_out(item_id=item_id, actor=actor)
    return item.revocation if item is not None else "skipped"


@shared_task
def review_reminders() -> int:
    """The beat's entry: remind the reviewers of every open campaign (once a day each)."""
    return reminders_send_all()
