"""`directory_sync`: the run over the directory's sections, which ones, in what order, resumed
after an interrupted run, and each recorded as done with its rows."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgadmin.client import OrgAPIError
from orgadmin.models import Organization, Project, SyncRun
from orgadmin.sync.directory.base import Fetcher
from orgadmin.sync.directory.groups_roles import sync_groups, sync_roles, sync_user_roles
from orgadmin.sync.directory.names import names_keep
from orgadmin.sync.directory.org_settings import (
    sync_admin_keys,
    sync_certificates,
    sync_org_settings,
)
from orgadmin.sync.directory.people import sync_invites, sync_users
from orgadmin.sync.directory.projects import sync_project, sync_projects
from orgadmin.sync.runs import NothingPermitted, RunRecorder, sync_run

log = logging.getLogger(__name__)

# The organization-wide sections, in the order they run (projects before their own sections).
ORG_SECTIONS: tuple[str, ...] = (
    "users",
    "invites",
    "projects",
    "admin_keys",
    "certificates",
    "roles",
    "groups",
    "user_roles",
    "org_settings",
)
# The area of the API (orgadmin.areas) each organization-wide section reads. A project's section
# reads several, each asked for on its own (projects.py).
SECTION_AREAS: dict[str, str] = {
    "users": "members",
    "invites": "members",
    "projects": "projects",
    "admin_keys": "keys",
    "certificates": "certificates",
    "roles": "groups_roles",
    "groups": "groups_roles",
    "user_roles": "groups_roles",
    "org_settings": "settings",
}
PROJECT_PREFIX = "project:"
RESUME_WINDOW = dt.timedelta(minutes=15)


class DirectorySyncIncomplete(Exception):
    """Some sections could not be fetched; the others were synced."""


def project_section(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


_ORG_SECTION_FUNCS: dict[str, Callable[[Organization, Fetcher], Callable[[], int]]] = {
    "users": sync_users,
    "invites": sync_invites,
    "projects": sync_projects,
    "admin_keys": sync_admin_keys,
    "certificates": sync_certificates,
    "roles": sync_roles,
    "groups": sync_groups,
    "user_roles": sync_user_roles,
    "org_settings": sync_org_settings,
}


def _fetch_section(org: Organization, f: Fetcher, section: str) -> Callable[[], int] | None:
    """The section's writer once its pages are read; None when the key may not read it."""
    if section.startswith(PROJECT_PREFIX):
        return sync_project(org, f, section.removeprefix(PROJECT_PREFIX))
    return f.readable(SECTION_AREAS[section], lambda: _ORG_SECTION_FUNCS[section](org, f))


def _resumable_done(org: Organization) -> tuple[list[str], int | None, str | None]:
    """Sections a recent interrupted full sync finished, its id, and when its cycle started."""
    last = (
        SyncRun.objects.filter(org=org, kind=SyncRun.Kind.DIRECTORY)
        .exclude(status=SyncRun.Status.RUNNING)
        .only("status", "params", "started_at")
        .first()
    )
    if last is None or last.status == SyncRun.Status.SUCCEEDED:
        return [], None, None
    params = last.params or {}
    if params.get("sections") != "all":
        return [], None, None
    cycle_started = params.get("cycle_started_at") or last.started_at.isoformat()
    if dt.datetime.fromisoformat(cycle_started) < timezone.now() - RESUME_WINDOW:
        return [], None, None
    return list(params.get("done", [])), last.pk, cycle_started


def _valid_sections(sections: Iterable[str]) -> list[str]:
    wanted = []
    for s in sections:
        if s not in _ORG_SECTION_FUNCS and not s.startswith(PROJECT_PREFIX):
            raise ValueError(f"Unknown directory section: {s!r}")
        if s not in wanted:
            wanted.append(s)
    # Org sections first, in their fixed order, so projects exist before their own sections.
    return sorted(wanted, key=lambda s: ORG_SECTIONS.index(s) if s in ORG_SECTIONS else 99)


def directory_sync(
    *, org: Organization, sections: Iterable[str] | None = None, triggered_by: Any = None
) -> SyncRun:
    """Refresh the directory cache from the API: all of it, or only the named sections.

    Raises SyncBusy when another directory sync of this org holds the lock, OrgAPIError when
    the API refuses the key, and DirectorySyncIncomplete when some sections failed (the others
    are synced). A section the key may not read is skipped, and the areas it reads are marked
    "not permitted by this key"; when the key may read nothing, the run ends "not permitted".
    Every outcome is recorded as a SyncRun.
    """
    full = sections is None
    requested = list(ORG_SECTIONS) if full else _valid_sections(sections or [])
    done, resumed_from, cycle_started = _resumable_done(org) if full else ([], None, None)
    params: dict[str, Any] = {
        "sections": "all" if full else requested,
        "done": list(done),
        "cycle_started_at": cycle_started or timezone.now().isoformat(),
    }
    if resumed_from:
        params["resumed_from"] = resumed_from
    failures: list[str] = []
    with sync_run(
        org=org, kind=SyncRun.Kind.DIRECTORY, params=params, triggered_by=triggered_by
    ) as recorder:
        fetcher = Fetcher(org, recorder)

        def run(section: str) -> None:
            if section in params["done"]:
                return
            error = _run_section(org, fetcher, recorder, params, section)
            if error is None:
                return
            if error.status is None or (error.status in (401, 403) and not error.permission_denied):
                raise error  # the key was refused or the API is unreachable: stop here
            failures.append(f"{section}: {error}")

        for section in requested:
            run(section)
        if full:
            # Known only now that the projects section has run: one section per project.
            for project_id in (
                Project.objects.filter(org=org)
                .order_by("openai_id")
                .values_list("openai_id", flat=True)
            ):
                run(project_section(project_id))
        names_keep(org=org)
        if failures:
            raise DirectorySyncIncomplete(
                f"{len(failures)} part(s) of the directory could not be synced: "
                + "; ".join(failures)
            )
        if recorder.refused and not recorder.read:
            raise NothingPermitted("This connection's admin key may read no part of the directory.")
    return recorder.run


def _run_section(
    org: Organization,
    fetcher: Fetcher,
    recorder: RunRecorder,
    params: dict[str, Any],
    section: str,
) -> OrgAPIError | None:
    """Fetch one section, then write it and mark it done in one transaction."""
    try:
        write = _fetch_section(org, fetcher, section)
    except OrgAPIError as exc:
        log.warning("Directory sync of %s: %s failed: %s", org, section, exc)
        return exc
    if write is None:
        return None  # not permitted by this key: skipped, and not done
    with transaction.atomic():
        written = write()
        params["done"].append(section)
        SyncRun.objects.filter(pk=recorder.run.pk).update(params=params)
    recorder.run.params = params
    recorder.page(rows=written, requests=fetcher.pending)
    fetcher.pending = 0
    return None
