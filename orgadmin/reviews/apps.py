from __future__ import annotations

from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "orgadmin.reviews"
    label = "reviews"
    verbose_name = "Access reviews"
    default_auto_field = "django.db.models.BigAutoField"
