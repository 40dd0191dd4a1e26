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
        # The hygiene findings show each key's and project's spend of the last 30 days.
        from dashboard.hygiene_spend import recent_spend
        from orgadmin.hygiene.spend import spend_reader_set

        spend_reader_set(recent_spend)

        # Access review reminders go to the alert channels too (orgadmin can't import them).
        from dashboard.alerts.services import notify
        from orgadmin.reviews.reminders import reminder_notifier_set

        reminder_notifier_set(notify)

        # A usage or cost row saved one by one gets its aggregates, as a sync's page does.
        signals.connect()
        post_migrate.connect(
            ensure_embedded_broker, sender=self, dispatch_uid="dashboard.embedded_broker"
        )
