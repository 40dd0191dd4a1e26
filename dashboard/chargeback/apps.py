from __future__ import annotations

from django.apps import AppConfig


class ChargebackConfig(AppConfig):
    name = "dashboard.chargeback"
    label = "chargeback"
    verbose_name = "Chargeback"
    default_auto_field = "django.db.models.BigAutoField"
