"""The Celery application, wired the canonical Django way."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import setup_logging, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_embedded_broker(**_: object) -> None:
    """Create the embedded broker's tables and default queue ahead of time.

    kombu's SQLAlchemy transport creates a queue's row on first use, and two processes doing it
    at once (the web enqueuing while the worker starts) collide on its unique name. Declaring
    the queue (as a worker does when it starts) once at `migrate` time removes the race.
    Nothing to do for Redis.
    """
    if not app.conf.broker_url.startswith("sqla+"):
        return
    queue = app.amqp.queues[app.conf.task_default_queue]
    with app.connection_for_write() as connection:
        queue.bind(connection.default_channel).declare()


@setup_logging.connect
def use_django_logging(*, loglevel: int | None = None, **_: object) -> None:
    """Keep Django's LOGGING, which redacts keys, in the worker and beat.

    With no receiver of this signal, Celery replaces the root logger's handlers with its own, which
    don't. Its --loglevel still sets the level, and what a task prints still becomes a log line
    (worker_redirect_stdouts, which Celery skips when logging is ours) instead of raw output.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
    if app.conf.worker_redirect_stdouts:
        app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)


@worker_ready.connect
def queue_first_syncs(**_: object) -> None:
    """When a worker starts, give every never-synced connection its first syncs."""
    from django.conf import settings

    from dashboard.tasks import sync_never_synced

    if settings.FIRST_SYNC_ON_WORKER_START:
        sync_never_synced.delay()
