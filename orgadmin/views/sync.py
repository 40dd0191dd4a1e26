"""The "Sync now" button and its status banner: one mechanism for the three syncs (usage, audit
log, directory).

A page shows `{% sync_banner sync_status %}` (orgadmin/templatetags/sync.py) with the
`selectors.sync_status(org=, kind=)` of its kind. "Sync now" queues a run and answers with the
banner asked at that moment (`?since=<epoch milliseconds>`), which polls its status every 2 s; once
the run is over (or no worker took it within `SYNC_WAIT`) the status answers HTTP 286, which stops
the polling, with the kind's client event that makes the page reload its data. What differs by
kind is data: the `SyncKind`s in `SYNCS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from orgadmin import selectors
from orgadmin.access import Perm
from orgadmin.models import SyncRun
from orgadmin.selectors import SyncStatus
from orgadmin.views.common import CHANGED, back

TEMPLATE = "orgadmin/_sync_status.html"


@dataclass(frozen=True)
class SyncKind:
    """How the pages show and start one kind of sync."""

    kind: str
    dom_id: str  # the banner's id, the target of its own swaps
    css_class: str
    status_url: str  # URL names
    start_url: str
    fallback: str  # where a plain (non-htmx) "Sync now" goes back to without a Referer
    perm: str  # who sees the button (the start view requires the same)
    event: str  # the client event once a run is over: the page's lists reload on it
    started: str  # messages
    already: str
    waiting: str  # the banner's words
    running: str
    synced: str
    failed: str
    stopped: str
    never: str
    button: str
    button_class: str
    never_detail: str = ""
    button_title: str = ""


SYNCS = {
    k.kind: k
    for k in [
        SyncKind(
            kind=SyncRun.Kind.USAGE,
            dom_id="usage-freshness",
            css_class="freshness",
            status_url="usage_sync_status",
            start_url="usage_sync",
            fallback="costs",
            perm=Perm.VIEW_SPEND,
            event="usageSynced",
            started="Sync started. The data refreshes when it ends.",
            already="A sync is already running; this banner follows it.",
            waiting="Sync queued, waiting for a worker…",
            running="Syncing usage and costs…",
            synced="Data synced",
            failed="Last sync failed",
            stopped="Last sync stopped",
            never="No usage data synced yet",
            never_detail="The first sync starts within the hour.",
            button="Sync now",
            button_class="small outline",
        ),
        SyncKind(
            kind=SyncRun.Kind.AUDIT_LOG,
            dom_id="audit-sync",
            css_class="sync-status",
            status_url="orgadmin:audit_sync_status",
            start_url="orgadmin:audit_sync",
            fallback="orgadmin:audit_log",
            perm=Perm.MANAGE,
            event="auditSynced",
            started="Audit log sync started: new events appear as they arrive.",
            already="A sync of the audit log is already running.",
            waiting="Syncing…",
            running="Syncing…",
            synced="Synced",
            failed="Sync failed",
            stopped="Sync stopped",
            never="Not synced yet",
            button="Sync now",
            button_class="secondary small",
        ),
        SyncKind(
            kind=SyncRun.Kind.DIRECTORY,
            dom_id="freshness",
            css_class="freshness",
            status_url="orgadmin:directory_status",
            start_url="orgadmin:directory_refresh",
            fallback="orgadmin:members",
            perm=Perm.MANAGE,
            event=CHANGED,
            started="Refreshing the directory from OpenAI.",
            already="A refresh of the directory is already running.",
            waiting="Refreshing from OpenAI…",
            running="Refreshing from OpenAI…",
            synced="Synced from OpenAI",
            failed="Last refresh failed",
            stopped="Last refresh stopped",
            never="Not synced from OpenAI yet",
            button="↻ Refresh",
            button_class="secondary outline small",
            button_title="Fetch the members, projects and keys from OpenAI now",
        ),
    ]
}


def banner(user: Any, status: SyncStatus, *, org: Any) -> dict[str, Any]:
    """The context of the status banner (orgadmin/_sync_status.html) of `org`'s sync."""
    sync = SYNCS[status.kind]
    return {"sync": sync, "status": status, "can_sync": user.has_perm(sync.perm, org)}


def _org_or_404(request: HttpRequest):
    if request.org is None:
        raise Http404("No organization is connected.")
    return request.org


def _since(request: HttpRequest) -> int | None:
    try:
        return int(request.GET["since"])
    except (KeyError, ValueError):
        return None


def sync_status_response(
    request: HttpRequest, *, kind: str, since: int | None = None
) -> HttpResponse:
    """The banner of `kind`; once nothing is left to wait for, HTTP 286 (which stops htmx's
    polling) and the kind's client event (on which the page reloads its data)."""
    org = _org_or_404(request)
    if since is None:
        since = _since(request)
    status = selectors.sync_status(org=org, kind=kind, since=since)
    response = render(request, TEMPLATE, banner(request.user, status, org=request.org))
    if not status.poll:
        response.status_code = HttpResponseStopPolling.status_code
        trigger_client_event(response, SYNCS[kind].event)
    return response


def sync_now(request: HttpRequest, *, kind: str, queue: Callable[[int, int], Any]) -> HttpResponse:
    """Queue a run of `kind` with `queue(org_id, user_id)` unless one is under way; answer with
    the banner, which follows the run until it is over (a plain form goes back where it was)."""
    org = _org_or_404(request)
    asked: int | None = int(timezone.now().timestamp() * 1000)
    sync = SYNCS[kind]
    if selectors.sync_status(org=org, kind=kind).running:
        messages.info(request, sync.already)
        asked = None  # the banner follows the run under way
    else:
        queue(org.pk, request.user.pk)
        messages.success(request, sync.started)
    if not request.htmx:
        return back(request, sync.fallback)
    return sync_status_response(request, kind=kind, since=asked)
