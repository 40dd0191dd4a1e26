"""Roles and the one decorator that enforces them on the server.

A role is a set of permissions, defined here in code. A person holds roles through grants
(orgadmin.models.RoleGrant): for all connections, or for one. Django's `has_perm(perm, org)`
answers from them (orgadmin.backends.RoleBackend). Views ask for a permission, never for a role
name, so a superuser (who has every permission everywhere) sees every page.
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


class Scope(StrEnum):
    """Where a view needs its permission. Roles are given per connection (or for all of them),
    so "may" is always asked about some connection."""

    CONNECTION = "connection"  # the connection being looked at (request.org); most pages
    ANY = "any"  # at least one connection: the Connections page and a connection's own pages
    ALL = "all"  # every connection, from a role given for all of them: adding or removing one


class _AnyConnection:
    """`has_perm`'s object for "on at least one connection" (see orgadmin.backends)."""

    def __repr__(self) -> str:
        return "ANY_CONNECTION"


ANY_CONNECTION: Any = _AnyConnection()

View = Callable[..., HttpResponse]


def holds(user: Any, perm: Perm | str, *, org: Any = None, scope: Scope = Scope.CONNECTION) -> bool:
    """Whether `user` holds `perm` where `scope` says: on `org` (None: on every connection,
    which only a role given for all connections answers), on some connection, or on all."""
    if scope == Scope.ANY:
        return user.has_perm(perm, ANY_CONNECTION)
    if scope == Scope.ALL:
        return user.has_perm(perm)
    return user.has_perm(perm, org)


def requires(perm: Perm, *, scope: Scope = Scope.CONNECTION) -> Callable[[View], View]:
    """Let a view run only for a signed-in user holding `perm` (on the current connection,
    `request.org`, unless `scope` says otherwise).

    Anonymous users are sent to the login page (whatever the method); a signed-in user without
    the permission gets 403. Put it outermost, above any method decorator, so that the answer to
    "who may" always comes before "how".
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not holds(request.user, perm, org=getattr(request, "org", None), scope=scope):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm  # type: ignore[attr-defined]
        wrapper.required_scope = scope  # type: ignore[attr-defined]
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
def _guards(resolver: URLResolver) -> dict[str, tuple[Perm | str | None, Scope]]:
    found: dict[str, tuple[Perm | str | None, Scope]] = {}
    for name, view in _named_views(resolver.url_patterns):
        found.setdefault(name, _guard(view))
    return found


def _guard(view: Any) -> tuple[Perm | str | None, Scope]:
    perm = getattr(view, "required_perm", PUBLIC)
    return perm, getattr(view, "required_scope", Scope.CONNECTION)


def url_permission(name: str) -> Perm | str | None:
    """What the view behind a URL name asks for: a `Perm`, None (any signed-in user, from
    `signed_in`) or PUBLIC. Built once from the URL resolver and the `required_perm` each guard
    leaves on its view; an unknown name raises KeyError."""
    return _guards(get_resolver())[name][0]


def url_scope(name: str) -> Scope:
    """Where the view behind a URL name needs its permission (see `Scope`)."""
    return _guards(get_resolver())[name][1]


def _allows(user: Any, guard: tuple[Perm | str | None, Scope], org: Any) -> bool:
    perm, scope = guard
    if perm == PUBLIC:
        return True
    if user is None or not user.is_authenticated:
        return False
    return perm is None or holds(user, perm, org=org, scope=scope)


def may_use(user: Any, name: str, org: Any = None) -> bool:
    """Whether `user` may open the page of a URL name (whatever its arguments) while looking at
    the connection `org` (the request's; None asks about every connection at once, which only
    a role given for all connections answers)."""
    return _allows(user, _guards(get_resolver())[name], org)


def may_open(user: Any, url: str, org: Any = None) -> bool:
    """Whether `user` may open `url`, a link as a page carries it (path and query), while
    looking at the connection `org`: what its view's guard would answer. Another site's
    address is not ours to judge (True); a path that leads to no view is no link to offer
    (False)."""
    parts = urlsplit(url or "")
    if parts.scheme or parts.netloc:
        return True
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    return _allows(user, _guard(match.func), org)
