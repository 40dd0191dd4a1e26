from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrgAdminConfig(AppConfig):
    name = "orgadmin"
    verbose_name = "Organization administration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orgadmin.access import ensure_roles
        from orgadmin.client import allowed_api_hosts_check

        # The roles live in code; every migrate brings the groups in line with it.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="orgadmin.ensure_roles")
        # A mistyped ALLOWED_API_HOSTS stops every process as it starts, not its first request.
        allowed_api_hosts_check()
