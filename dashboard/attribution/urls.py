"""The attribution pages, under /attribution/ (dashboard/urls.py includes them; no namespace)."""

from __future__ import annotations

from django.urls import path

from dashboard.attribution import views

urlpatterns = [
    path("", views.people, name="attribution"),
    path("export.<export:fmt>", views.people_export, name="attribution_people_export"),
    path("keys/", views.keys, name="attribution_keys"),
    path("keys/export.<export:fmt>", views.keys_export, name="attribution_keys_export"),
    path("reconciliation/", views.reconciliation, name="attribution_reconciliation"),
    path(
        "reconciliation/export.<export:fmt>",
        views.reconciliation_export,
        name="attribution_reconciliation_export",
    ),
    path("prices/", views.prices, name="attribution_prices"),
    path("prices/add/", views.price_add, name="attribution_price_add"),
    path("prices/remove/", views.price_remove, name="attribution_price_remove"),
]
