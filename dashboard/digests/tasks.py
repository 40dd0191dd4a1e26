"""Celery tasks for digests: thin, the work is dashboard.digests.sending's."""

from __future__ import annotations

from celery import shared_task

from dashboard.digests.sending import digests_due, dispatch_send


@shared_task(acks_late=True)
def digest_send(dispatch_id: int) -> str:
    """One attempt at one digest; returns its status ("taken": another worker has it, or it is
    done). A failed one waits for a later beat (its backoff), so a retry is never lost."""
    dispatch = dispatch_send(dispatch_id=dispatch_id)
    return "taken" if dispatch is None else dispatch.status


@shared_task
def digests_tick() -> int:
    """Celery beat, every 15 minutes: queue every digest due, to retry or abandoned by a dead
    worker. Returns how many were queued."""
    ids = digests_due()
    for dispatch_id in ids:
        digest_send.delay(dispatch_id)
    return len(ids)
