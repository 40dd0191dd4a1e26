"""The Celery application, wired the canonical Django way."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_embedded_broker(**_: object) -> None:
    """Create the embedded broker's tables and default queue ahead of time.

    kombu's SQLAlchemy transport creates a queue's row on first use, and two processes doing it
    at once (the web enqueuing while the worker starts) collide on its unique name. Creating it
    once at `migrate` time removes the race. Nothing to do for Redis.
    """
    if not app.conf.broker_url.startswith("sqla+"):
        return
    with app.connection_for_write() as connection:
        connection.default_channel._get_or_create(app.conf.task_default_queue)


@worker_ready.connect
def queue_first_syncs(**_: object) -> None:
    """When a worker starts, give every never-synced connection its first syncs."""
    from django.conf import settings

    from dashboard.tasks import sync_never_synced

    if settings.FIRST_SYNC_ON_WORKER_START:
        sync_never_synced.delay()
