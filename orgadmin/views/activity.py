"""Our own action log: who in this dashboard changed what, when, and what OpenAI answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.backends import sees_every_connection
from orgadmin.csv_export import csv_stream
from orgadmin.forms import ActivityFilterForm
from orgadmin.models import AuditEvent
from orgadmin.selectors.sorting import ACTIONS
from orgadmin.views.common import bad_filter, download, fragment, paginate


def event_link(event: AuditEvent) -> str:
    """The audit log on the event's UTC day, with the event open in its drawer."""
    day = event.effective_at.astimezone(dt.UTC).date()
    query = {"start": day, "end": day + dt.timedelta(days=1), "event": event.event_id}
    return reverse("orgadmin:audit_log") + "?" + urlencode(query)


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    sort = ACTIONS.parse(request.GET.get("sort"))
    rows = selectors.actions_list(
        org=request.org,
        q=filters.get("q", ""),
        outcome=filters.get("outcome", ""),
        sort=sort,
        unattached=sees_every_connection(request.user),
    )
    page = paginate(request, rows)
    events = selectors.action_audit_events(org=request.org, actions=page.object_list)
    context = {
        "form": form,
        "sort": sort,
        "page": page,
        "event_links": {pk: event_link(event) for pk, event in events.items()},
        "filtered": bool(filters.get("q") or filters.get("outcome")),
    }
    return render(request, fragment(request, "orgadmin/activity.html", "activity-live"), context)


# --- export (issue 16: Activity needs an export) ----------------------------------------------

EXPORT_COLUMNS = [
    "when_utc",
    "who",
    "action",
    "summary",
    "resource_type",
    "resource_id",
    "outcome",
    "error",
    "request_id",
    "organization",
]


def _export_rows(actions) -> Iterator[list]:
    for a in actions.iterator(chunk_size=1000):
        yield [
            a.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            a.actor_name,
            a.action,
            a.summary,
            a.resource_type,
            a.resource_id,
            a.get_outcome_display(),
            a.error,
            a.request_id,
            a.org_name,
        ]


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def activity_export_csv(request: HttpRequest) -> HttpResponse:
    """The action log as CSV, with the page's filters and order; times in UTC."""
    form = ActivityFilterForm(request.GET)
    if not form.is_valid():
        return bad_filter(form)
    actions = selectors.actions_list(
        org=request.org,
        q=form.cleaned_data["q"],
        outcome=form.cleaned_data["outcome"],
        sort=ACTIONS.parse(request.GET.get("sort")),
        # Actions tied to no connection may name one this person holds no role on.
        unattached=sees_every_connection(request.user),
    )
    lines = csv_stream(EXPORT_COLUMNS, _export_rows(actions))
    filename = f"activity-{dt.datetime.now(dt.UTC):%Y-%m-%d}.csv"
    return download(lines, filename=filename, content_type="text/csv; charset=utf-8")
