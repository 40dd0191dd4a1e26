from __future__ import annotations

from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "dashboard.digests"
    label = "digests"
    verbose_name = "Digests"
    default_auto_field = "django.db.models.BigAutoField"
