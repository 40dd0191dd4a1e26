"""What a connection's admin key may do, area by area: learnt from refusals, probed on request.

A read the API refuses for permissions (a sync's, or "Check again"'s) marks the area "not
permitted by this key"; a refused change marks it read-only. A successful read clears a read
refusal; "Check again" asks once per area again and forgets every write refusal, since a write
can't be tried without making one. Every write keeps `Organization.key_limits`, the summary the
pages read, equal to the rows, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgadmin.areas import AREAS
from orgadmin.client import OrgAPIError, admin_client, api_errors, request_id_of
from orgadmin.models import KeyArea, Organization, Project


def _summarize(org: Organization) -> dict[str, str]:
    """Write the rows' summary on the organization (inside the caller's transaction)."""
    rows = KeyArea.objects.filter(org=org).values_list("area", "can_read", "can_write")
    limits = {
        area: "none" if not can_read else "read"
        for area, can_read, can_write in rows
        if not (can_read and can_write)
    }
    Organization.objects.filter(pk=org.pk).update(key_limits=limits)
    return limits


def _locked(org: Organization) -> None:
    """Take the organization's row lock: two writers never summarize from stale rows."""
    list(Organization.objects.select_for_update().filter(pk=org.pk).values_list("pk"))


def key_area_refused(*, org: Organization, error: OrgAPIError, area: str | None = None) -> str:
    """Record that the API refused the key a read (a GET) or a change of an area; returns the
    area ("" when the request's area is unknown: nothing recorded)."""
    area = area or error.area or ""
    if area not in AREAS:
        return ""
    with transaction.atomic():
        _locked(org)
        row, _ = KeyArea.objects.get_or_create(org=org, area=area)
        if error.writing:
            row.can_write = False
        else:
            row.can_read = False
        row.message = error.message
        row.request_id = error.request_id or ""
        row.refused_at = timezone.now()
        row.save()
        _summarize(org)
    return area


def key_areas_readable(*, org: Organization, areas: Iterable[str]) -> None:
    """The key has just read these areas: forget that it was refused a read of them."""
    wanted = set(areas)
    current = Organization.objects.filter(pk=org.pk).values_list("key_limits", flat=True).first()
    if not any((current or {}).get(a) == "none" for a in wanted):
        return  # nothing to forget: one query, no write
    with transaction.atomic():
        _locked(org)
        KeyArea.objects.filter(org=org, area__in=wanted, can_read=False).update(can_read=True)
        KeyArea.objects.filter(org=org, can_read=True, can_write=True).delete()
        _summarize(org)


def key_areas_forget(*, org: Organization) -> None:
    """Forget everything learnt about the key (it was replaced)."""
    with transaction.atomic():
        _locked(org)
        KeyArea.objects.filter(org=org).delete()
        Organization.objects.filter(pk=org.pk).update(key_limits={})
    org.key_limits = {}


# --- "Check again": one cheap read per area ----------------------------------------------------


def _probes(api: Any, project_id: str | None) -> dict[str, Callable[[], Any]]:
    """A read of one item (or one bucket) per area, the cheapest the API has; the first one is
    the key's check (`connection_verify`'s)."""
    start = int((timezone.now() - dt.timedelta(days=1)).timestamp())
    probes: dict[str, Callable[[], Any]] = {
        "projects": lambda: api.projects.list(limit=1),
        "members": lambda: api.users.list(limit=1),
        "keys": lambda: api.admin_api_keys.list(limit=1),
        "certificates": lambda: api.certificates.list(limit=1),
        "groups_roles": lambda: api.groups.list(limit=1),
        "settings": lambda: api.spend_alerts.list(limit=1),
        "audit_log": lambda: api.audit_logs.list(limit=1),
        "usage": lambda: api.usage.completions(start_time=start, bucket_width="1d", limit=1),
        "costs": lambda: api.usage.costs(start_time=start, bucket_width="1d", limit=1),
    }
    if project_id:  # rate limits are only listed per project
        probes["rate_limits"] = lambda: api.projects.rate_limits.list_rate_limits(
            project_id, limit=1
        )
    return probes


def key_areas_probe(*, org: Organization) -> str:
    """Check the key, then ask the API once per area what it may read, and make that all that
    is known about it: reads refused are recorded, every other mark (write refusals included)
    is cleared. Returns the request id of the first answer (the key's check).

    Raises OrgAPIError when the first request fails for another reason than permissions (the
    key refused, the API unreachable…), or any later one with an error every request would get:
    nothing is recorded then. A later error that says nothing about permissions leaves its area
    as readable.
    """
    api = admin_client(org, max_retries=1)
    project_id = (
        Project.objects.filter(org=org, status="active").values_list("openai_id", flat=True).first()
    )
    outcome: dict[str, OrgAPIError | None] = {}
    request_id = ""
    for area, probe in _probes(api, project_id).items():
        try:
            with api_errors():
                answer = probe()
        except OrgAPIError as exc:
            if exc.account_wide or not (outcome or exc.permission_denied):
                raise
            outcome[area] = exc if exc.permission_denied else None
            request_id = request_id or exc.request_id or ""
        else:
            outcome[area] = None
            request_id = request_id or request_id_of(answer)
    now = timezone.now()
    with transaction.atomic():
        _locked(org)
        KeyArea.objects.filter(org=org).delete()
        KeyArea.objects.bulk_create(
            KeyArea(
                org=org,
                area=area,
                can_read=False,
                message=error.message,
                request_id=error.request_id or "",
                refused_at=now,
            )
            for area, error in outcome.items()
            if error is not None
        )
        org.key_limits = _summarize(org)
    return request_id
