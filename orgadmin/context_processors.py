"""What every page needs: the navigation for the user's role and the organization switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from orgadmin.access import Perm, roles_of
from orgadmin.models import Organization

# (label, URL name, permission needed). Items whose page doesn't exist yet are left out.
NAVIGATION: list[tuple[str, str, Perm | None]] = [
    ("Overview", "home", None),
    ("Members", "orgadmin:members", Perm.VIEW_DIRECTORY),
    ("Projects", "orgadmin:projects", Perm.VIEW_PROJECTS),
    ("Keys", "orgadmin:keys", Perm.VIEW_DIRECTORY),
    ("Usage", "usage", Perm.VIEW_SPEND),
    ("Costs", "costs", Perm.VIEW_SPEND),
    ("Audit log", "orgadmin:audit_log", Perm.VIEW_AUDIT_LOG),
    ("Activity", "orgadmin:activity", Perm.VIEW_AUDIT_LOG),
    ("Settings", "orgadmin:org_settings", Perm.VIEW_DIRECTORY),
    ("Connections", "orgadmin:connections", Perm.MANAGE),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    path = request.path
    for label, url_name, perm in NAVIGATION:
        if perm is not None and not user.has_perm(perm):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {
        "nav_items": items,
        "current_org": getattr(request, "org", None),
        # base_url: the switcher shows each name's badge (Organization.api_badge).
        "all_orgs": list(Organization.objects.only("id", "name", "status", "base_url")),
        "user_roles": roles_of(user),
    }
