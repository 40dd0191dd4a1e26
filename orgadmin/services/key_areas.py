"""What a connection's admin key may do, area by area: probed, and learnt from refusals.

"Check again", and adding a connection or replacing its key, asks the API once per area what the
key may read (one cheap read) and change (a change aimed at an id no object has, which changes
nothing: see `_write_probes`). A read refused for permissions marks the area "not permitted by
this key", a change refused marks it read-only. Between probes, a refusal of a sync's read or of
a person's change marks its area the same way, and a successful read clears a read refusal.
Every write keeps `Organization.key_limits`, the summary the pages read, equal to the rows, in
the same transaction.
"""

from __future__ import annotations

import contextlib
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
    """Record that the API refused the key a read (a GET) or a change of an area, also on `org`
    in memory; returns the area ("" when the request's area is unknown: nothing recorded)."""
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
        org.key_limits = _summarize(org)  # this request's pages know it at once
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


def key_areas_replace(
    *, org: Organization, limits: dict[str, str], message: str, request_id: str = ""
) -> None:
    """Make `limits` (area → "none" or "read") all that is known of the key: for a key that
    says itself what it may do (an xAI management key's ACLs), with the words to show."""
    now = timezone.now()
    rows = [
        KeyArea(
            org=org,
            area=area,
            can_read=limit != "none",
            can_write=False,
            message=message,
            request_id=request_id,
            refused_at=now,
        )
        for area, limit in limits.items()
        if area in AREAS and limit in ("none", "read")
    ]
    with transaction.atomic():
        _locked(org)
        KeyArea.objects.filter(org=org).delete()
        KeyArea.objects.bulk_create(rows)
        org.key_limits = _summarize(org)


def key_areas_forget(*, org: Organization) -> None:
    """Forget everything learnt about the key (it was replaced)."""
    with transaction.atomic():
        _locked(org)
        KeyArea.objects.filter(org=org).delete()
        Organization.objects.filter(pk=org.pk).update(key_limits={})
    org.key_limits = {}


# --- probes: one cheap read, and one change that can change nothing, per area ----------------


def _read_probes(api: Any, project_id: str | None) -> dict[str, Callable[[], Any]]:
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


# The ids the write probes aim at. OpenAI's ids are a prefix and letters and digits
# ("proj_abc123", "invite-AbC9"); hyphenated words after the prefix are never handed out, so no
# object answers to these and nothing can change, whatever the key may do.
_NO_SUCH = "dashboard-write-probe"
_NO_PROJECT = f"proj_{_NO_SUCH}"


def _write_probes(api: Any) -> dict[str, Callable[[], Any]]:
    """One change per area the dashboard changes, aimed at an id no object has, and mild even if
    one had it: an update with no field where the API has one (nothing changes), else the
    removal of an invite or spend alert nobody has, or of an object inside another that doesn't
    exist either.

    A key that lacks the area's scope is refused (401 "…insufficient permissions… Missing
    scopes: …", orgadmin.areas cites the sources) whatever the ids; one that has it gets a 404.
    That the scope is checked before the ids are looked up is how those reports read (the
    refusal names the scope, never the object) and what the simulator does; OpenAI doesn't
    document it. Were a 404 to come first, the probe would say "may change", the controls would
    show, and the first refused change would hide them (`key_area_refused`, the fallback).

    OpenAI's audit log lists "user actions and configuration changes" (the spec's event types are
    changes made, sign-ins and sign-outs); that a refused or not-found request leaves no event
    there is our assumption, not something OpenAI documents. Our own Activity log records none
    of these requests.
    """
    return {
        "members": lambda: api.invites.delete(f"invite-{_NO_SUCH}"),
        "projects": lambda: api.projects.update(_NO_PROJECT),  # no field: changes nothing
        "keys": lambda: api.projects.api_keys.delete(f"key_{_NO_SUCH}", project_id=_NO_PROJECT),
        "certificates": lambda: api.certificates.update(f"cert_{_NO_SUCH}"),  # no field
        "rate_limits": lambda: api.projects.rate_limits.update_rate_limit(
            f"rl-{_NO_SUCH}", project_id=_NO_PROJECT
        ),  # no field
        "groups_roles": lambda: api.groups.users.delete(
            f"user-{_NO_SUCH}", group_id=f"group_{_NO_SUCH}"
        ),
        "settings": lambda: api.spend_alerts.delete(f"alert_{_NO_SUCH}"),
    }


def _may_write(error: OrgAPIError | None) -> bool | None:
    """What a write probe's answer says: True when the key may change the area (the id was
    looked up and not found), False when it may not (refused for permissions or scopes), None
    when the answer teaches nothing (5xx, 429, a timeout, a 400, an unknown path…)."""
    if error is None:
        return True  # accepted: it may (nothing can have changed: there is no such object)
    if error.permission_denied:
        return False
    if error.status == 404 and not error.message.startswith("Invalid URL"):
        return True
    return None


def _ask_reads(api: Any, org: Organization) -> tuple[dict[str, OrgAPIError | None], str]:
    """Area → the refusal of its read probe, or None when it may read it (or the answer said
    nothing of permissions); and the request id of the first answer (the key's check)."""
    project_id = (
        Project.objects.filter(org=org, status="active").values_list("openai_id", flat=True).first()
    )
    outcome: dict[str, OrgAPIError | None] = {}
    request_id = ""
    for area, probe in _read_probes(api, project_id).items():
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
    return outcome, request_id


def _ask_writes(api: Any, areas: Iterable[str]) -> dict[str, OrgAPIError | None]:
    """Area → the refusal of its write probe, or None when it may change it. An area whose
    answer teaches nothing is left out: what was known of it stays."""
    probes = _write_probes(api)
    outcome: dict[str, OrgAPIError | None] = {}
    for area in areas:
        try:
            with api_errors():
                probes[area]()
        except OrgAPIError as exc:
            error: OrgAPIError | None = exc
        else:
            error = None
        may = _may_write(error)
        if may is not None:
            outcome[area] = None if may else error
    return outcome


def _record(
    org: Organization,
    reads: dict[str, OrgAPIError | None],
    writes: dict[str, OrgAPIError | None],
) -> None:
    """Make the probes' answers all that is known of the key, except a change refused before in
    an area whose write probe taught nothing: that mark stays."""
    now = timezone.now()

    def row(area: str, error: OrgAPIError, **may: bool) -> KeyArea:
        return KeyArea(
            org=org,
            area=area,
            message=error.message,
            request_id=error.request_id or "",
            refused_at=now,
            **may,
        )

    with transaction.atomic():
        _locked(org)
        before = {r.area: r for r in KeyArea.objects.filter(org=org, can_write=False)}
        rows: list[KeyArea] = []
        for area in AREAS:
            if (refused := reads.get(area)) is not None:
                rows.append(row(area, refused, can_read=False))
            elif area in writes:
                if (refused := writes[area]) is not None:
                    rows.append(row(area, refused, can_write=False))
            elif (kept := before.get(area)) is not None:
                kept.pk, kept.can_read = None, True
                rows.append(kept)
        KeyArea.objects.filter(org=org).delete()
        KeyArea.objects.bulk_create(rows)
        org.key_limits = _summarize(org)


def key_areas_probe(*, org: Organization) -> str:
    """Check the key, then ask the API once per area what it may read, and once per area it may
    read whether it may change it, and make that what is known about it. Returns the request id
    of the first answer (the key's check).

    Raises OrgAPIError when the first request fails for another reason than permissions (the
    key refused, the API unreachable…), or a later read with an error every request would get:
    nothing is recorded then. A later read error that says nothing about permissions leaves its
    area as readable; a write probe's answer that teaches nothing keeps what was known.
    """
    api = admin_client(org, max_retries=1)
    reads, request_id = _ask_reads(api, org)
    writes = _ask_writes(api, [a for a in _write_probes(api) if reads.get(a) is None])
    _record(org, reads, writes)
    return request_id


def key_areas_learn(*, org: Organization) -> None:
    """`key_areas_probe` for a key the API has just accepted (a connection added, a key
    replaced), so that its pages show no control it may not use from the first visit. A failure
    here is no failure of the key: the syncs and refused changes learn the same later."""
    with contextlib.suppress(OrgAPIError):
        key_areas_probe(org=org)
