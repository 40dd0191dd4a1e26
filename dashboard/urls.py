from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from dashboard import views
from orgadmin.views.connections import healthz
from orgadmin.views.sign_in import sign_in


class ExportFormat:
    """`csv` or `json`, the two formats every export comes in."""

    regex = "csv|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormat, "export")

urlpatterns = [
    path("", views.home, name="home"),
    path("costs/", views.costs, name="costs"),
    path("costs/export.<export:fmt>", views.costs_export, name="costs_export"),
    path("usage/", views.usage, name="usage"),
    path("usage/export.<export:fmt>", views.usage_export, name="usage_export"),
    path("usage/sync/", views.usage_sync_start, name="usage_sync"),
    path("usage/sync/status/", views.usage_sync_status, name="usage_sync_status"),
    path("usage/settings/", views.reporting_settings, name="reporting_settings"),
    path("accounts/login/", sign_in, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("", include("orgadmin.urls")),
]
