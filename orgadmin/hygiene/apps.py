from __future__ import annotations

from django.apps import AppConfig


class HygieneConfig(AppConfig):
    name = "orgadmin.hygiene"
    label = "hygiene"
    verbose_name = "Key and access hygiene"
    default_auto_field = "django.db.models.BigAutoField"
