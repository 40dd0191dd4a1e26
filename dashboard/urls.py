from __future__ import annotations

from django.urls import include, path, register_converter

from dashboard import focus_views, views
from dashboard.alerts import inbox
from dashboard.alerts import views as alerts
from dashboard.digests import views as digests
from orgadmin.views.connections import healthz


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
    # A billing month in FOCUS 1.2 (dashboard/focus.py), of this connection or, `all=1`, all.
    path("costs/focus.csv", focus_views.costs_focus, name="costs_focus"),
    # All organizations: Overview and Costs over every connection whose costs one may read.
    path("all/", views.all_overview, name="all_overview"),
    path("all/costs/", views.all_costs, name="all_costs"),
    path("all/costs/export.<export:fmt>", views.all_costs_export, name="all_costs_export"),
    path("all/costs/focus.csv", focus_views.all_costs_focus, name="all_costs_focus"),
    path("switch/", views.switch, name="switch"),
    path("usage/", views.usage, name="usage"),
    path("usage/export.<export:fmt>", views.usage_export, name="usage_export"),
    path("usage/sync/", views.usage_sync_start, name="usage_sync"),
    path("usage/sync/status/", views.usage_sync_status, name="usage_sync_status"),
    path("usage/settings/", views.reporting_settings, name="reporting_settings"),
    # Alert channels (dashboard/alerts/): where alerts go, each one's deliveries and attempts.
    path("channels/", alerts.channels, name="channels"),
    path("channels/add/", alerts.channel_add, name="channel_add"),
    path("channels/<int:channel_id>/remove/", alerts.channel_remove, name="channel_remove"),
    path("channels/<int:channel_id>/toggle/", alerts.channel_toggle, name="channel_toggle"),
    path("channels/<int:channel_id>/test/", alerts.channel_test, name="channel_test"),
    path("channels/<int:channel_id>/", alerts.channel_deliveries, name="channel_deliveries"),
    # The alert inbox (dashboard/alerts/inbox.py): every alert, its state and its deliveries.
    path("alerts/", inbox.alert_inbox, name="alert_inbox"),
    path("alerts/<int:alert_pk>/", inbox.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_pk>/state/", inbox.alert_state, name="alert_state"),
    # Budgets (dashboard/budgets/): budget, budget_add, budget_edit, budget_remove.
    path("budgets/", include("dashboard.budgets.urls")),
    # Attribution (dashboard/attribution/): cost by person and key, reconciliation, unit prices.
    path("attribution/", include("dashboard.attribution.urls")),
    # Chargeback (dashboard/chargeback/): the monthly report per cost centre, its files,
    # closing a month; cost centres, assignments and shared-cost rules.
    path("chargeback/", include("dashboard.chargeback.urls")),
    # Digests (dashboard/digests/): each person picks theirs, where they go, and asks a preview.
    path("digests/", digests.digests, name="digests"),
    path("digests/save/", digests.digest_save, name="digest_save"),
    path("digests/preview/", digests.digest_preview, name="digest_preview"),
    # A person's read-only access tokens for BI tools (orgadmin/tokens/): access_tokens,
    # access_token_create, access_token_revoke. What a token may open: its middleware.
    path("tokens/", include("orgadmin.tokens.urls")),
    # Sign-in, two-factor authentication and single sign-on (django-allauth).
    path("accounts/", include("orgadmin.accounts.urls")),
    # Key and access hygiene (orgadmin/hygiene/): findings, outcomes, bulk revoke.
    path("hygiene/", include("orgadmin.hygiene.urls")),
    # Access reviews (orgadmin/reviews/): campaigns, each reviewer's items, revocations,
    # reminders, the evidence report (HTML, PDF, CSV).
    path("reviews/", include("orgadmin.reviews.urls")),
    # The access matrix (orgadmin/access_matrix/): who can reach which project, today or as of
    # a past day, its CSV, and what changed in access between two days.
    path("access/", include("orgadmin.access_matrix.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("orgadmin.urls")),
]
