from __future__ import annotations

from django.apps import AppConfig


class AccessMatrixConfig(AppConfig):
    name = "orgadmin.access_matrix"
    label = "access_matrix"
    verbose_name = "Access matrix"
    default_auto_field = "django.db.models.BigAutoField"
