"""Permissions per (person, connection), from their role grants: Django's `has_perm`.

`user.has_perm(perm, obj)` asks every backend of AUTHENTICATION_BACKENDS; RoleBackend answers
from the person's grants (orgadmin.models.RoleGrant), for `obj`:
- an Organization: the roles given for all connections and on that one, added up;
- None: every connection at once, which only roles given for all connections answer (adding a
  connection, or a page with no connection yet);
- ANY_CONNECTION: at least one connection (the Connections page).
An active superuser has every permission everywhere (Django answers that before any backend).

It signs people in as allauth's backend does (a username or an email, and a password: a
ModelBackend), and ignores Django groups and per-user permissions: a person's roles are their
grants, nothing else, so nothing gives a role behind the grants' back.
A person's grants are read once per request (one query) and kept on the user object.
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from orgadmin.access import ANY_CONNECTION, ROLE_PERMISSIONS, Perm, Role
from orgadmin.models import Organization, RoleGrant

_CACHE = "_role_grants"

Grants = dict[int | None, frozenset[Role]]


def grants_of(user: Any) -> Grants:
    """A person's roles by connection id (None: for all connections). One query, then kept
    on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return {}
    cached = getattr(user, _CACHE, None)
    if cached is None:
        found: dict[int | None, set[Role]] = {}
        rows = RoleGrant.objects.filter(user=user, role__in=[r.value for r in Role])
        for org_id, role in rows.values_list("org_id", "role"):
            found.setdefault(org_id, set()).add(Role(role))
        cached = {org_id: frozenset(roles) for org_id, roles in found.items()}
        setattr(user, _CACHE, cached)
    return cached


def forget_grants(user: Any) -> None:
    """Read the grants again at the next question (after they changed)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def roles_on(user: Any, org: Any) -> frozenset[Role]:
    """The roles a person holds on `org` (see the module's docstring for None and
    ANY_CONNECTION)."""
    grants = grants_of(user)
    if org is ANY_CONNECTION:
        return frozenset().union(*grants.values())
    roles = grants.get(None, frozenset())
    if isinstance(org, Organization):
        roles |= grants.get(org.pk, frozenset())
    return roles


def permissions_on(user: Any, org: Any) -> frozenset[str]:
    return frozenset(p.value for role in roles_on(user, org) for p in ROLE_PERMISSIONS[role])


def roles_of(user: Any, org: Any) -> list[str]:
    """The role names a person holds on `org`, for display (the top bar)."""
    if user.is_superuser:
        return ["Superuser"]
    return sorted(role.value for role in roles_on(user, org))


def sees_every_connection(user: Any) -> bool:
    """A superuser, or anyone with a role for all connections."""
    return user.is_superuser or None in grants_of(user)


def connections_visible(user: Any) -> list[Organization]:
    """The connections a person may know of, by name: every one for a superuser or for a role
    given for all connections; else those they hold a role on. One query (none for nobody)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    orgs = Organization.objects.order_by("name")
    if not sees_every_connection(user):
        ids = [org_id for org_id in grants_of(user) if org_id is not None]
        if not ids:
            return []
        orgs = orgs.filter(pk__in=ids)
    return list(orgs)


def _roles_with(perm: str) -> list[str]:
    return [role.value for role, perms in ROLE_PERMISSIONS.items() if perm in perms]


class RoleBackend(AuthenticationBackend):
    """allauth's sign-in; permissions from role grants only (see the module)."""

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_obj.is_superuser:
            return {p.value for p in Perm}
        return set(permissions_on(user_obj, obj))

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        perms = self.get_all_permissions(user_obj, ANY_CONNECTION)
        return any(p.startswith(f"{app_label}.") for p in perms)

    def with_perm(
        self, perm: Any, is_active: bool = True, include_superusers: bool = True, obj: Any = None
    ) -> QuerySet:
        """The people holding `perm` on `obj` (an Organization; None: for all connections)."""
        if not isinstance(perm, str):
            perm = f"{perm.content_type.app_label}.{perm.codename}"
        where = Q(org__isnull=True)
        if isinstance(obj, Organization):
            where |= Q(org=obj)
        holders = RoleGrant.objects.filter(where, role__in=_roles_with(perm)).values("user")
        found = Q(pk__in=holders)
        if include_superusers:
            found |= Q(is_superuser=True)
        users = get_user_model()._default_manager.filter(found)
        return users.filter(is_active=is_active) if is_active is not None else users
