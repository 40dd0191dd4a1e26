"""Roles and the one decorator that enforces them on the server.

A role is a Django group holding a set of permissions. Views ask for a permission, never for a
role name, so a superuser (who has every permission) sees every page.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class Perm(StrEnum):
    MANAGE = "orgadmin.manage_organization"
    VIEW_DIRECTORY = "orgadmin.view_directory"
    VIEW_PROJECTS = "orgadmin.view_projects"
    VIEW_AUDIT_LOG = "orgadmin.view_audit_log"
    VIEW_SPEND = "orgadmin.view_spend"


class Role(StrEnum):
    ADMIN = "Admin"
    FINANCE = "Finance"
    AUDITOR = "Auditor"


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    # Admin manages, and also reads everything the other two read.
    Role.ADMIN: frozenset(Perm),
    # Finance reads usage and costs and exports them; it sees projects read-only.
    Role.FINANCE: frozenset({Perm.VIEW_SPEND, Perm.VIEW_PROJECTS}),
    # Auditor reads the audit log, the action log and the directory, and changes nothing.
    Role.AUDITOR: frozenset({Perm.VIEW_AUDIT_LOG, Perm.VIEW_DIRECTORY, Perm.VIEW_PROJECTS}),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "Manages members, projects, keys, limits and connections.",
    Role.FINANCE: "Reads usage and costs, and exports them.",
    Role.AUDITOR: "Reads the audit log and the directory.",
}

View = Callable[..., HttpResponse]


def requires(perm: Perm) -> Callable[[View], View]:
    """Let a view run only for a signed-in user holding `perm`.

    Anonymous users are sent to the login page (whatever the method); a signed-in user without
    the permission gets 403. Put it outermost, above any method decorator, so that the answer to
    "who may" always comes before "how".
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


def signed_in(view: View) -> View:
    """Let a view run for any signed-in user, whatever their role."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.required_perm = None  # type: ignore[attr-defined]
    return wrapper


def roles_of(user: Any) -> list[str]:
    """The role names of a user, for display."""
    if user.is_superuser:
        return ["Superuser"]
    return sorted(g.name for g in user.groups.all() if g.name in Role.__members__.values())


def ensure_roles(**_: Any) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    wanted = {perm.split(".", 1)[1] for perm in Perm}
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(content_type__app_label="orgadmin", codename__in=wanted)
    }
    if len(permissions) < len(wanted):
        return  # permissions not created yet; post_migrate runs again after they are
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([permissions[p.split(".", 1)[1]] for p in perms])
