"""The access page: who can reach which project (today, or as of a past day), its CSV export,
and what changed in access between two days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orgadmin import selectors as org_selectors
from orgadmin.access import Perm, requires
from orgadmin.access_matrix import changes as history
from orgadmin.access_matrix.forms import AccessFilterForm, AccessGridForm, ChangesForm
from orgadmin.access_matrix.grid import (
    Column,
    ColumnPage,
    GridRow,
    column_page,
    grid_columns,
    grid_csv_columns,
    grid_csv_rows,
    grid_rows,
)
from orgadmin.access_matrix.selectors import (
    Access,
    OrgOwner,
    access_filter,
    org_owners,
    project_access,
)
from orgadmin.audit import describe, normalize
from orgadmin.csv_export import csv_stream
from orgadmin.models import AuditEvent, Organization, Project, SyncRun
from orgadmin.views.activity import event_link
from orgadmin.views.common import bad_filter, download, fragment, paginate, with_org

CHANGE_DAYS = 30  # the changes view's range when none is asked for


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the current timezone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _filter_form(request: HttpRequest, form_class: type = AccessFilterForm) -> AccessFilterForm:
    projects = Project.objects.filter(org=request.org, status=Project.Status.ACTIVE)
    choices = [(p.openai_id, p.name or p.openai_id) for p in projects.only("openai_id", "name")]
    return form_class(request.GET, projects=choices, today=timezone.localdate())


def _data(form: AccessFilterForm) -> dict[str, Any]:
    return form.cleaned_data if form.is_valid() else {}


def _read(org: Organization, form: AccessFilterForm) -> tuple[list[Access], Any]:
    """Every path of the projects asked for, today or from the history, and the moment they are
    of (None: now)."""
    data = _data(form)
    project_ids = [data["project"]] if data.get("project") else None
    if data.get("as_of"):
        at = min(_day_start(data["as_of"] + dt.timedelta(days=1)), timezone.now())
        return history.access_as_of(org=org, at=at, project_ids=project_ids), at
    return project_access(org=org, project_ids=project_ids), None


def _narrow(rows: list[Access], form: AccessFilterForm) -> list[Access]:
    """The rows the search, kind, role and path filters keep."""
    data = _data(form)
    kept = access_filter(
        rows, q=data.get("q", ""), role=data.get("role", ""), kind=data.get("kind", "")
    )
    return access_filter(kept, path=data.get("path", ""))


def _selected(org: Organization, form: AccessFilterForm) -> tuple[list[Access], Any]:
    """The rows the filters keep, and the moment they are of (None: now)."""
    rows, at = _read(org, form)
    return _narrow(rows, form), at


def _owners_shown(
    owners: list[OrgOwner], form: AccessFilterForm, at: Any, *, by_project: bool = True
) -> list[OrgOwner]:
    """Organization owners, unless the filters rule them out. They are no project's rows, so a
    project filter rules them out of the list (`by_project`), not of the grid: they reach it."""
    data = _data(form)
    if at is not None or (by_project and data.get("project")):
        return []
    if data.get("path") in ("group", "key"):
        return []
    if data.get("kind") not in ("", None, "user") or data.get("role") not in ("", None, "owner"):
        return []
    words = (data.get("q") or "").casefold().split()
    return [o for o in owners if all(w in f"{o.label} {o.email}".casefold() for w in words)]


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def access_matrix(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    rows, at = _selected(request.org, form)
    context = {
        "form": form,
        "page": paginate(request, rows),
        "as_of": at,
        "history_started": history.history_started(org=request.org),
        "owners": _owners_shown(org_owners(org=request.org), form, at),
        "filtered": form.filtered,
        "sync_status": org_selectors.sync_status(org=request.org, kind=SyncRun.Kind.DIRECTORY),
        "tab": "matrix",
    }
    return render(request, fragment(request, "access_matrix/access.html", "access-live"), context)


EXPORT_COLUMNS = ["project_id", "project", "kind", "id", "name", "email", "role", "path"]


def _export_rows(rows: list[Access], owners: list[OrgOwner]) -> Iterator[list]:
    for a in rows:
        path = a.via or "direct"
        yield [a.project_id, a.project_name, a.kind, a.subject_id, a.label, a.email, a.role, path]
    for o in owners:
        yield ["*", "every project", "org_owner", o.user_id, o.label, o.email, "owner", "org owner"]


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def access_export(request: HttpRequest) -> HttpResponse:
    """The matrix as CSV, with the page's filters; organization owners last, as "every project"."""
    form = _filter_form(request)
    if not form.is_valid():
        return bad_filter(form)
    rows, at = _selected(request.org, form)
    owners = _owners_shown(org_owners(org=request.org), form, at)
    lines = csv_stream(EXPORT_COLUMNS, _export_rows(rows, owners))
    day = (at or timezone.now()).astimezone(timezone.get_current_timezone()).date()
    return download(lines, filename=f"access-{day}.csv", content_type="text/csv; charset=utf-8")


@dataclass(frozen=True)
class GridView:
    rows: list[GridRow]
    columns: ColumnPage
    every_column: list[Column]
    at: Any


def _grid(request: HttpRequest, form: AccessGridForm, *, every_column: bool = False) -> GridView:
    """The grid the filters ask for: a row per person or service account with a kept path to a
    project of this page's columns (`every_column`: of every project), or an organization owner,
    who reaches them all."""
    everything, at = _read(request.org, form)
    data = _data(form)
    if at is None:
        choices = form.fields["project"].choices[1:]
        projects = [(pid, name) for pid, name in choices if data.get("project") in ("", None, pid)]
        columns = grid_columns(everything, projects)
    else:
        columns = grid_columns(everything, None)
    owners = org_owners(org=request.org) if at is None else []
    page = column_page(columns, data.get("columns"))
    rows = grid_rows(
        everything=everything,
        kept=_narrow(everything, form),
        columns=columns if every_column else page.columns,
        owners=owners,
        owners_shown=_owners_shown(owners, form, at, by_project=False),
    )
    return GridView(rows=rows, columns=page, every_column=columns, at=at)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def access_grid(request: HttpRequest) -> HttpResponse:
    """The matrix as a grid: people and service accounts down, projects across."""
    form = _filter_form(request, AccessGridForm)
    grid = _grid(request, form)
    page = paginate(request, grid.rows)
    context = {
        "form": form,
        "page": page,
        "cells": [(row, row.cells(grid.columns.columns)) for row in page.object_list],
        "columns": grid.columns,
        "as_of": grid.at,
        "history_started": history.history_started(org=request.org),
        "filtered": form.filtered,
        "sync_status": org_selectors.sync_status(org=request.org, kind=SyncRun.Kind.DIRECTORY),
        "tab": "grid",
    }
    return render(request, fragment(request, "access_matrix/grid.html", "grid-live"), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def access_grid_export(request: HttpRequest) -> HttpResponse:
    """The grid as CSV, every project a column, with the page's filters."""
    form = _filter_form(request, AccessGridForm)
    if not form.is_valid():
        return bad_filter(form)
    grid = _grid(request, form, every_column=True)
    columns = grid_csv_columns(grid.every_column)
    lines = csv_stream(columns, grid_csv_rows(grid.rows, grid.every_column))
    day = (grid.at or timezone.now()).astimezone(timezone.get_current_timezone()).date()
    return download(
        lines, filename=f"access-grid-{day}.csv", content_type="text/csv; charset=utf-8"
    )


def _changes_form(request: HttpRequest) -> ChangesForm:
    today = timezone.localdate()
    data = request.GET
    if "start" not in data and "end" not in data:
        data = {"start": today - dt.timedelta(days=CHANGE_DAYS), "end": today}
    return ChangesForm(data, today=today)


def _event_rows(org: Organization, events: list[AuditEvent]) -> list[dict[str, Any]]:
    ids: set[str] = set()
    for event in events:
        ids |= {event.actor_id, event.api_key_id, event.project_id, event.resource_id}
        ids |= set(normalize(event.raw).resource_ids)
    names = org_selectors.audit_names(org=org, ids=ids)
    return [
        {
            "event": e,
            "what": describe(e.raw, names=names).sentence.predicate(),
            "who": e.actor_email or names.get(e.actor_id) or names.get(e.api_key_id) or e.actor_key,
            "project": names.get(e.project_id) or e.project_name or e.project_id,
            "link": event_link(e),
        }
        for e in events
    ]


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def access_changes(request: HttpRequest) -> HttpResponse:
    form = _changes_form(request)
    report, events = None, []
    if form.is_valid():
        start = _day_start(form.cleaned_data["start"])
        end = _day_start(form.cleaned_data["end"] + dt.timedelta(days=1))
        report = history.access_changes(org=request.org, start=start, end=end)
        events = _event_rows(request.org, report.events)
    context = {
        "form": form,
        "report": report,
        "events": events,
        "sync_status": org_selectors.sync_status(org=request.org, kind=SyncRun.Kind.DIRECTORY),
        "tab": "changes",
    }
    return render(request, "access_matrix/changes.html", context)
