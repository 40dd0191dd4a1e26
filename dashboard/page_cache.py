"""The Costs, Usage and Overview pages, served from a cache until something on them changes.

`@cached_page` keeps each person's rendered page under a key that holds everything it is made of:
- the organization's *fingerprint* (one query): its `DataGeneration`, which the sync moves in
  the same transaction as every usage and cost row and aggregate it writes; when its forecasts
  per project and model were last stored (`GroupForecast`, written by the check that follows
  the sync, dashboard/group_forecasts.py: the Overview shows one once it is stored); its
  reporting timezone; the state of its latest directory, usage and audit log runs (names of
  projects, keys and users, the groupings the API refused, the sync banner, an Auditor's security
  summary); and its latest action through this dashboard (a project or key renamed here);
- the person and what they may see (their roles on the organization, the connections in their
  switcher, with their names and badges);
- the request: path, parameters, whether htmx asked for a fragment, and today's date in the
  reporting timezone (the presets, and labels such as "Nov 1 – Nov 30").

Once a usage or cost write commits, the key it changed is never read again: the figures on a
cached page are those the database holds. A name changed by a directory run shows once that run
ends. A page also expires after PAGE_CACHE_SECONDS, which bounds how far its relative times
("synced 3 minutes ago") drift. A request with a message to show (after a form was sent) is never
served from the cache, and renders the message.

The CSRF token is never cached: the token a page was rendered with is swapped for a placeholder
before it is stored, and the placeholder for the reader's own token when it is served.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.alerts.models import Channel
from dashboard.models import DataGeneration, GroupForecast, ReportingSettings
from orgadmin.backends import roles_on
from orgadmin.context_processors import rendered_csrf_token
from orgadmin.models import ActionLog, Organization, SyncRun

# Where the CSRF token was in a stored page; 64 characters no token or page contains otherwise.
CSRF_PLACEHOLDER = "csrf-token-of-the-reader-goes-here-".ljust(64, "x")
KEPT_HEADERS = ("Content-Type", "HX-Push-Url", "HX-Trigger", "HX-Retarget", "HX-Reswap")


@functools.cache
def _fingerprint_sql() -> str:
    """One statement of index lookups by the organization. Written once per process: the ORM
    took a millisecond to build it, a hundred times the statement's own time."""
    qn = connection.ops.quote_name
    generation, reporting, runs, actions, channels, forecasts = (
        qn(m._meta.db_table)
        for m in (DataGeneration, ReportingSettings, SyncRun, ActionLog, Channel, GroupForecast)
    )
    # The latest run of a kind (runs of one kind never overlap): started, or since ended.
    latest_run = (
        f"(SELECT COALESCE(finished_at, started_at) FROM {runs} "  # noqa: S608
        "WHERE org_id = %s AND kind = %s ORDER BY started_at DESC LIMIT 1)"
    )
    return (
        f"SELECT (SELECT timezone FROM {reporting} WHERE org_id = %s), "  # noqa: S608
        f"(SELECT value FROM {generation} WHERE org_id = %s), "
        f"{latest_run}, {latest_run}, {latest_run}, "
        f"(SELECT MAX(id) FROM {actions} WHERE org_id = %s), "
        # The failing-channels banner (dashboard/alerts): moves with every give-up and recovery.
        f"(SELECT SUM(consecutive_failures) FROM {channels} WHERE org_id = %s OR org_id IS NULL), "
        # The Overview's forecasts per project and model, stored after the sync's own commit.
        f"(SELECT MAX(computed_at) FROM {forecasts} WHERE org_id = %s)"
    )


def fingerprint(*, org: Organization) -> tuple:
    """What the pages of `org` show from the database besides the person's own (one query):
    (reporting timezone, data generation, latest directory, usage and audit log runs, latest
    action, the failures in a row of its alert channels: the Admins' banner, the latest stored
    forecast per project or model: the Overview's). The audit log's:
    an Auditor's Overview is its security summary, and every Overview lists the latest runs."""
    kinds = (SyncRun.Kind.DIRECTORY, SyncRun.Kind.USAGE, SyncRun.Kind.AUDIT_LOG)
    params = [
        org.pk,
        org.pk,
        *(v for kind in kinds for v in (org.pk, kind.value)),
        org.pk,
        org.pk,
        org.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql(), params)
        return tuple(cursor.fetchone())


def _key(request: HttpRequest, org: Organization, name: str) -> str:
    state = fingerprint(org=org)
    today = timezone.now().astimezone(ZoneInfo(state[0] or "UTC")).date()
    htmx = request.htmx
    parts = (
        name,
        org.pk,
        state,
        request.user.pk,
        sorted(roles_on(request.user, org)),
        [(o.pk, o.name, o.api_badge) for o in getattr(request, "orgs", ())],
        request.path,
        sorted(request.GET.lists()),
        (bool(htmx), bool(htmx and htmx.boosted), htmx.target if htmx else None),
        today.isoformat(),
        timezone.localdate().year,  # range labels leave out the current year
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _served(request: HttpRequest, stored: tuple[bytes, dict[str, str]]) -> HttpResponse:
    content, headers = stored
    token = rendered_csrf_token(request).encode()
    response = HttpResponse(content.replace(CSRF_PLACEHOLDER.encode(), token))
    for header, value in headers.items():
        response[header] = value
    return response


def _storable(request: HttpRequest, response: HttpResponse) -> tuple[bytes, dict] | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    token = rendered_csrf_token(request).encode()
    content = response.content.replace(token, CSRF_PLACEHOLDER.encode())
    return content, {h: response[h] for h in KEPT_HEADERS if h in response}


def cached_page(name: str) -> Callable:
    """Serve a GET page of the current organization from the page cache (see the module)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            org = getattr(request, "org", None)
            if org is None or settings.PAGE_CACHE_SECONDS <= 0 or len(get_messages(request)):
                return view(request, *args, **kwargs)
            cache = caches[settings.PAGE_CACHE_ALIAS]
            key = _key(request, org, name)
            stored = cache.get(key)
            if stored is not None:
                return _served(request, stored)
            response = view(request, *args, **kwargs)
            storable = _storable(request, response)
            if storable is not None:
                cache.set(key, storable, settings.PAGE_CACHE_SECONDS)
            return response

        return wrapper

    return decorate
