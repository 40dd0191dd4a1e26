from __future__ import annotations

from django.apps import AppConfig


class OrgAdminConfig(AppConfig):
    name = "orgadmin"
    verbose_name = "Organization administration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from orgadmin.accounts.oidc import RoleMapError, parse_role_map
        from orgadmin.client import allowed_api_hosts_check

        # The roles live in code (orgadmin.access), and people hold them through RoleGrant rows:
        # no Django group to keep in line at every migrate.
        # A mistyped ALLOWED_API_HOSTS stops every process as it starts, not its first request.
        allowed_api_hosts_check()
        # And a mistyped OIDC_ROLE_MAP too, not someone's sign-in.
        try:
            parse_role_map(settings.OIDC_ROLE_MAP)
        except RoleMapError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
