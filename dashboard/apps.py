from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Usage and costs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard import signals
        from dashboard.celery import ensure_embedded_broker
        from dashboard.tables import month_spend_now, project_spend_column
        from orgadmin.selectors.spend import month_spend_reader_set, project_spend_column_set

        # The Spend tabs (orgadmin) show this month's spend with the Overview's projection, and
        # the Projects list sorts by it.
        month_spend_reader_set(month_spend_now)
        project_spend_column_set(project_spend_column)

        # A usage or cost row saved one by one gets its aggregates, as a sync's page does.
        signals.connect()
        post_migrate.connect(
            ensure_embedded_broker, sender=self, dispatch_uid="dashboard.embedded_broker"
        )
