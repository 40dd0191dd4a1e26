"""Connections whose admin key is restricted, as OpenAI's "Read only" and "Restricted" admin keys
are (the simulator answers them as the live API does: orgadmin/simulator/scopes.py)."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.db.models import Count
from django.urls import Resolver404, resolve, reverse

from orgadmin.access import Perm
from orgadmin.models import Organization, OrgGroup, OrgUser, Project
from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.scopes import parse_permissions
from tests.conftest import SIM_BASE_URL
from tests.factories import OrganizationFactory

_serial = itertools.count(1)


def restrict(simulator: SimulatorApp, org: Organization, permissions: str | Mapping[str, str]):
    """Change what the connection's key may do at the simulator ("all", "read_only",
    "audit_log=none,members=read" or a dict), as its owner would in OpenAI's dashboard."""
    key = next(k for k in simulator.store.admin_keys.values() if k.value == org.admin_key)
    key.permissions = parse_permissions(permissions)


def restricted_org(
    simulator: SimulatorApp,
    permissions: str | Mapping[str, str],
    *,
    name: str = "Acme (restricted key)",
) -> Organization:
    """A connection to the in-process simulator through a new admin key with these permissions."""
    value = f"sk-admin-restricted-{next(_serial):04d}-000000000000000000000"
    simulator.store.admin_key_add(value, permissions=parse_permissions(permissions))
    return OrganizationFactory(name=name, base_url=SIM_BASE_URL, admin_key=value)


# The views that change something at OpenAI: everything that needs Manage, except our own
# connections and the syncs (which only read).
_OURS = {"orgadmin:directory_refresh", "orgadmin:audit_sync", "orgadmin:connections"}


def _change_views() -> frozenset[str]:
    from tests.test_access_matrix import ACCESS

    return frozenset(
        name
        for name, rule in ACCESS.items()
        if rule.perm == Perm.MANAGE
        and name.startswith("orgadmin:")
        and not name.startswith("orgadmin:connection_")
        and name not in _OURS
    )


_URL = re.compile(
    r"""\s(?:href|action|formaction|hx-(?:get|post|put|patch|delete))=["']([^"']+)["']"""
)


def changes_offered(page: str) -> list[str]:
    """The changes at OpenAI that a page's main part offers: the URL names of its forms, buttons
    and links that lead to a view making one (the header's and the sync banner's aside)."""
    start = page.find("<main")
    main = page[start : page.index("</main>", start)] if start >= 0 else page
    changes = _change_views()
    offered = set()
    for url in _URL.findall(main):
        path = urlsplit(html.unescape(url)).path
        if not path.startswith("/"):
            continue
        try:
            name = resolve(path).view_name
        except Resolver404:
            continue
        if name in changes:
            offered.add(name)
    return sorted(offered)


def _project(org: Organization) -> Project:
    """An active project with the most to change: members, service accounts and keys."""
    return (
        Project.objects.filter(org=org, status="active")
        .exclude(name="Default project")
        .annotate(
            keys=Count("api_keys", distinct=True),
            accounts=Count("service_accounts", distinct=True),
            members=Count("users", distinct=True),
        )
        .order_by("-keys", "-accounts", "-members", "name")
        .first()
    )


def management_pages(org: Organization) -> dict[str, tuple[str, ...]]:
    """Every management page (URL) → the areas whose controls it holds."""
    project = _project(org)
    user = OrgUser.objects.filter(org=org, role="reader").order_by("email").first()
    group = OrgGroup.objects.filter(org=org, is_scim_managed=False).order_by("name").first()
    tab_areas = {
        "service-accounts": ("projects",),
        "api-keys": ("keys",),
        "rate-limits": ("rate_limits",),
        "certificates": ("certificates",),
        "spend": ("settings",),
        "permissions": ("projects",),
        "groups": ("groups_roles",),
        "retention": ("settings",),
    }
    pages = {
        reverse("orgadmin:members"): ("members",),
        reverse("orgadmin:invites"): ("members",),
        reverse("orgadmin:member", args=[user.openai_id]): ("members", "projects", "groups_roles"),
        reverse("orgadmin:groups"): ("groups_roles",),
        reverse("orgadmin:group", args=[group.openai_id]): ("groups_roles",),
        reverse("orgadmin:roles"): ("groups_roles",),
        reverse("orgadmin:projects"): ("projects",),
        reverse("orgadmin:project", args=[project.openai_id]): ("projects",),  # its members
        reverse("orgadmin:keys"): ("keys",),
        reverse("orgadmin:admin_keys"): ("keys",),
        reverse("orgadmin:org_settings"): ("certificates",),
        reverse("orgadmin:org_settings_tab", args=["spend"]): ("settings",),
        reverse("orgadmin:org_settings_tab", args=["retention"]): ("settings",),
    }
    for slug, areas in tab_areas.items():
        pages[reverse("orgadmin:project_tab", args=[project.openai_id, slug])] = areas
    return pages
