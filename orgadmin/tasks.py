"""Celery tasks: thin wrappers that load their arguments and call a service."""

from __future__ import annotations

from celery import shared_task

from orgadmin import services
from orgadmin.models import Organization


@shared_task
def verify_connections() -> dict[str, str]:
    """Re-verify every connection; returns each one's status."""
    return {
        org.name: services.connection_verify(org=org).status for org in Organization.objects.all()
    }
