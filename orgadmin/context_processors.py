"""What every page needs: the navigation for the user's role and the organization switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from orgadmin.access import may_use
from orgadmin.backends import connections_visible, grants_of, roles_of
from orgadmin.providers import OPENAI, capability_of_page

# (label, URL name). An item shows when its view's guard lets the person in on the current
# connection (orgadmin.access.may_use) and the connection's API has what the page needs
# (orgadmin.providers); items whose page doesn't exist yet are left out.
NAVIGATION: list[tuple[str, str]] = [
    ("Overview", "home"),
    ("Members", "orgadmin:members"),
    ("Projects", "orgadmin:projects"),
    ("Keys", "orgadmin:keys"),
    ("Keys", "orgadmin:team_keys"),
    ("Usage", "usage"),
    ("Costs", "costs"),
    ("Budgets", "budgets"),
    ("Attribution", "attribution"),
    ("Chargeback", "chargeback"),
    ("Alerts", "alert_inbox"),
    ("Billing", "orgadmin:billing"),
    ("Audit log", "orgadmin:audit_log"),
    ("Activity", "orgadmin:activity"),
    ("Access", "access"),
    ("Reviews", "reviews"),
    ("Hygiene", "hygiene"),
    ("Settings", "orgadmin:org_settings"),
    ("Channels", "channels"),
    ("People", "orgadmin:people"),
    ("Connections", "orgadmin:connections"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    org = getattr(request, "org", None)
    items = []
    path = request.path
    capabilities = (org.provider_info if org is not None else OPENAI).capabilities
    for label, url_name in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        capability = capability_of_page(url_name)
        if capability is not None and capability not in capabilities:
            continue
        if not may_use(user, url_name, org):
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    orgs = getattr(request, "orgs", None)
    return {
        "nav_items": items,
        "current_org": org,
        # Only the connections this person holds a role on: the others don't exist for them.
        "all_orgs": connections_visible(user) if orgs is None else orgs,
        "user_roles": roles_of(user, org),
        "has_role": user.is_superuser or bool(grants_of(user)),
    }


_REQUEST_ATTRIBUTE = "_csrf_token_rendered"


def rendered_csrf_token(request: HttpRequest) -> str:
    """The one CSRF token that this request's templates render (Django masks the secret anew at
    each `get_token()`): what a page cache swaps out of a stored page (dashboard/page_cache.py)."""
    token = getattr(request, _REQUEST_ATTRIBUTE, None)
    if token is None:
        token = get_token(request)
        setattr(request, _REQUEST_ATTRIBUTE, token)
    return token


def csrf(request: HttpRequest) -> dict[str, Any]:
    """Django's own `csrf_token`, but the same string wherever a request's templates use it,
    and still computed only when one does."""
    return {"csrf_token": SimpleLazyObject(lambda: rendered_csrf_token(request))}
