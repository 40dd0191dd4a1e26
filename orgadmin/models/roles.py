"""Who holds which dashboard role, for which connection."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgadmin.access import Role
from orgadmin.models.core import Organization


class GrantSource(models.TextChoices):
    """Where a grant came from: an Admin gave it, or single sign-on did (OIDC_ROLE_MAP). A
    sign-in replaces the grants single sign-on gave, never those an Admin gave."""

    ADMIN = "admin", "Given by an Admin"
    SSO = "sso", "From single sign-on"


class RoleGrant(models.Model):
    """One dashboard role given to one person, on one connection or (no `org`) on all of them.

    The permissions of a person on a connection are those of their grants for all connections
    and of their grants on that connection, added up. A person may hold several roles on one
    connection (Finance and Auditor), as a Django user could be in several role groups before.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    # None: for every connection, those added later too.
    org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    source = models.CharField(max_length=10, choices=GrantSource.choices, default=GrantSource.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two constraints: NULLs are distinct in a unique index, so one alone would let a
            # person hold the same role "for all connections" twice.
            models.UniqueConstraint(
                fields=["user", "org", "role"],
                condition=Q(org__isnull=False),
                name="role_grant_once_per_connection",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(org__isnull=True),
                name="role_grant_once_for_all_connections",
            ),
        ]

    def __str__(self) -> str:
        where = self.org.name if self.org_id else "all connections"
        return f"{self.user} · {self.role} · {where}"
