"""Roles and the one decorator that enforces them on the server.

A role is a Django group holding a set of permissions. Views ask for a permission, never for a
role name, so a superuser (who has every permission) sees every page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum
from functools import cache, wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404


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


# --- May this user open this URL? Read from the views' own decorators, never written twice. ----

PUBLIC = "public"  # a view with neither decorator (the login page, health checks)


def _named_views(patterns: list, namespace: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _named_views(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p.callback


@cache
def _permissions(resolver: URLResolver) -> dict[str, Perm | str | None]:
    found: dict[str, Perm | str | None] = {}
    for name, view in _named_views(resolver.url_patterns):
        found.setdefault(name, getattr(view, "required_perm", PUBLIC))
    return found


def url_permission(name: str) -> Perm | str | None:
    """What the view behind a URL name asks for: a `Perm`, None (any signed-in user, from
    `signed_in`) or PUBLIC. Built once from the URL resolver and the `required_perm` each guard
    leaves on its view; an unknown name raises KeyError."""
    return _permissions(get_resolver())[name]


def _allows(user: Any, perm: Perm | str | None) -> bool:
    if perm == PUBLIC:
        return True
    if user is None or not user.is_authenticated:
        return False
    return perm is None or user.has_perm(perm)


def may_use(user: Any, name: str) -> bool:
    """Whether `user` may open the page of a URL name (whatever its arguments)."""
    return _allows(user, url_permission(name))


def may_open(user: Any, url: str) -> bool:
    """Whether `user` may open `url`, a link as a page carries it (path and query): what its
    view's guard would answer. Another site's address is not ours to judge (True); a path that
    leads to no view is no link to offer (False)."""
    parts = urlsplit(url or "")
    if parts.scheme or parts.netloc:
        return True
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    return _allows(user, getattr(match.func, "required_perm", PUBLIC))
