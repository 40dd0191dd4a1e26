from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "orgadmin.tokens"
    label = "tokens"
    verbose_name = "Access tokens"
    default_auto_field = "django.db.models.BigAutoField"
