"""The audit log explorer: the filtered timeline, the event drawer, the exports and Sync now."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from orgadmin import selectors, tasks
from orgadmin.access import Perm, requires
from orgadmin.audit import (
    UNTYPED_CATEGORY,
    Ref,
    category_label,
    category_of,
    date_of_day,
    describe,
    normalize,
    person_name,
)
from orgadmin.audit.chain import GENESIS, ChainHead, chain_head
from orgadmin.charts import audit_events_figure
from orgadmin.csv_export import csv_stream
from orgadmin.forms import AuditFilterForm
from orgadmin.models import AuditEvent, Organization, SyncRun
from orgadmin.selectors import AuditFacets, AuditFilters
from orgadmin.selectors.audit_counts import SAMPLE_LIMIT
from orgadmin.views.common import bad_filter, download, fragment, query_text
from orgadmin.views.sync import sync_now, sync_status_response

PER_PAGE = 50
EXPORT_CHUNK = 1000
PRESETS = [("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365)]
FILTER_PARAMS = ("start", "end", "type", "actor", "project", "resource", "q")


# --- helpers ------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def _parse(request: HttpRequest, org: Organization) -> tuple[AuditFilterForm, AuditFilters]:
    """The filter form (with any errors) and the filters made of its valid values."""
    known = selectors.audit_known_types(org=org)
    form = AuditFilterForm(request.GET, known_types=known, today=_today())
    form.is_valid()
    start, end = form.date_range()
    types = form.valid("type", [])
    actor = form.valid("actor", "")
    categories = tuple(t[:-2] for t in types if t.endswith(".*"))
    filters = AuditFilters(
        start=start,
        end=end,
        types=tuple(t for t in types if not t.endswith(".*")),
        categories=categories,
        category_types=tuple(t for t in known if category_of(t) in categories),
        actor=actor,
        actor_names=selectors.audit_actors_of_id(org=org, actor=actor),
        project=form.valid("project", ""),
        resource=form.valid("resource", ""),
        q=form.valid("q", ""),
        q_ids=selectors.audit_name_ids(org=org, q=form.valid("q", "")),
    )
    return form, filters


def _query(request: HttpRequest, *, drop: Iterable[str] = (), **values: Any) -> str:
    """This page's query string without `drop` and with `values` (a list for several)."""
    params = {k: v for k, v in _filter_params(request).items() if k not in drop}
    for key, value in values.items():
        params[key] = value if isinstance(value, list) else [value]
    pairs = [(k, v) for k, vs in params.items() for v in vs if v not in ("", None)]
    return urlencode(pairs)


def _filter_params(request: HttpRequest) -> dict[str, list[str]]:
    """The filters of this request's query string (read once: a page builds ~80 links)."""
    if not hasattr(request, "_audit_filters"):
        params = {k: request.GET.getlist(k) for k in FILTER_PARAMS}
        last = request.GET.get("last", "")
        with contextlib.suppress(ValueError, OverflowError):  # a bad one: the form says why
            params["end"] = [(dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()]
        request._audit_filters = params  # type: ignore[attr-defined]
    return request._audit_filters  # type: ignore[attr-defined]


def _page_param(request: HttpRequest) -> str:
    page = request.GET.get("page", "")
    return page if page not in ("", "1") else ""


def _url(request: HttpRequest, **kwargs: Any) -> str:
    query = _query(request, **kwargs)
    return _explorer_url() + (f"?{query}" if query else "")


@functools.cache
def _explorer_url() -> str:
    return reverse("orgadmin:audit_log")


def page_link(ref: Ref) -> str | None:
    """The dashboard page of a thing an event names, when that page exists."""
    try:
        if ref.kind == "project":
            return reverse("orgadmin:project", kwargs={"project_id": ref.id})
        if ref.kind == "user" and ref.id:
            return reverse("orgadmin:member", kwargs={"user_id": ref.id})
        if ref.kind == "key":
            return reverse("orgadmin:keys") + "?" + urlencode({"q": ref.id})
    except NoReverseMatch:
        return None
    return None


def _ids_of(events: Iterable[AuditEvent]) -> set[str]:
    ids: set[str] = set()
    for event in events:
        ids |= {event.actor_id, event.api_key_id, event.project_id, event.resource_id}
        ids |= set(normalize(event.raw).resource_ids)
    return ids


def _actor_label(event: AuditEvent, names: dict[str, str]) -> str:
    return (
        event.actor_email
        or names.get(event.actor_id)
        or names.get(event.api_key_id)
        or event.actor_key
        or "—"
    )


# --- the explorer -------------------------------------------------------------------------


def _type_groups(f: AuditFilters, facets: AuditFacets) -> list[dict]:
    groups: dict[str, dict] = {}
    for event_type in {*facets.types, *f.types}:
        category = category_of(event_type)
        group = groups.setdefault(
            category,
            {
                "value": f"{category}.*",
                "label": category_label(category),
                "count": 0,
                "selected": category in f.categories,
                "types": [],
            },
        )
        count = facets.types.get(event_type, 0)
        group["count"] += count
        group["types"].append(
            {"value": event_type, "count": count, "selected": event_type in f.types}
        )
    for category in f.categories:
        groups.setdefault(
            category,
            {
                "value": f"{category}.*",
                "label": category_label(category),
                "count": 0,
                "selected": True,
                "types": [],
            },
        )
    for group in groups.values():
        group["types"].sort(key=lambda t: (-t["count"], t["value"]))
        group["open"] = group["selected"] or any(t["selected"] for t in group["types"])
    return sorted(groups.values(), key=lambda g: (-g["count"], g["label"]))


def _rows(
    events: list[AuditEvent],
    request: HttpRequest,
    names: dict[str, str],
    via: dict[int, selectors.DashboardActor],
) -> list[dict]:
    return [
        {
            "event": event,
            "what": describe(event.raw, names=names).sentence.predicate(),
            "category": category_label(event.category),
            "actor": _actor_label(event, names),
            "actor_name": person_name(event.raw),
            "untyped": event.category == UNTYPED_CATEGORY,
            "via": via.get(event.pk),
            "key_name": names.get(event.api_key_id, ""),
            "project": names.get(event.project_id) or event.project_name or event.project_id,
            "link": _url(request, event=event.event_id, page=request.GET.get("page", "")),
        }
        for event in events
    ]


def _chips(request: HttpRequest, f: AuditFilters, names: dict[str, str]) -> list[dict]:
    chips = []
    for value in request.GET.getlist("type"):
        if value in f.types or value[:-2] in f.categories:
            label = category_label(value[:-2]) if value.endswith(".*") else value
            rest = [v for v in request.GET.getlist("type") if v != value]
            chips.append(
                {"label": f"Type: {label}", "url": _url(request, drop=["type"], type=rest)}
            )
    for key, label, value in (
        ("actor", "Actor", _named(f.actor, names)),
        ("project", "Project", _named(f.project, names)),
        ("resource", "Resource", _named(f.resource, names)),
        ("q", "Search", f"“{f.q}”" if f.q else ""),
    ):
        if value:
            chips.append({"label": f"{label}: {value}", "url": _url(request, drop=[key])})
    return chips


def _named(object_id: str, names: dict[str, str]) -> str:
    """A name with its id, "Prod backend (key_abc)", or the id alone when no name is known."""
    name = names.get(object_id)
    return f"{name} ({object_id})" if name and name != object_id else object_id


def _pagination(request: HttpRequest, form: AuditFilterForm, facets: AuditFacets) -> dict:
    total = facets.total
    pages = max(1, math.ceil(min(total, SAMPLE_LIMIT) / PER_PAGE))
    page = form.valid("page", 1)
    if page > pages:
        form.add_error(
            "page",
            f"There is no page {page:,}: these filters give {pages:,} "
            f"page{'s' if pages != 1 else ''}. Showing the last one.",
        )
        page = pages
    return {
        "page": page,
        "pages": pages,
        "first": (page - 1) * PER_PAGE + 1 if total else 0,
        "last": min(page * PER_PAGE, total),
        "newer": _url(request, page=page - 1) if page > 1 else "",
        "older": _url(request, page=page + 1) if page < pages else "",
        "oldest": _url(request, page=pages) if page < pages - 1 else "",
    }


def _page_names(
    org: Organization, f: AuditFilters, facets: AuditFacets, events: list[AuditEvent]
) -> dict[str, str]:
    """Names for every id the page shows: facets, chips and rows."""
    ids = [*facets.projects, f.project, f.resource, f.actor, *(a for a, _ in facets.actors)]
    return selectors.audit_names(org=org, ids=[*ids, *_ids_of(events)])


def _explorer(request: HttpRequest, org: Organization) -> dict[str, Any]:
    form, f = _parse(request, org)
    facets = selectors.audit_facets(org=org, f=f)
    pagination = _pagination(request, form, facets)
    events = selectors.audit_event_page(
        org=org, f=f, page=pagination["page"], per_page=PER_PAGE, facets=facets
    )
    names = _page_names(org, f, facets, events)
    via = selectors.audit_dashboard_actors(org=org, events=events)
    dates = {d: date_of_day(d) for d in {d for d, _ in facets.days}}
    counts = {(dates[d], c): n for (d, c), n in facets.days.items()}
    today = _today()
    return {
        "org": org,
        "form": form,
        "f": f,
        "facets": facets,
        "rows": _rows(events, request, names, via),
        "pagination": pagination,
        "type_groups": (groups := _type_groups(f, facets)),
        # Events that have no type (xAI's) make a facet of one meaningless value: left out.
        "type_facet": not groups or any(g["value"] != f"{UNTYPED_CATEGORY}.*" for g in groups),
        "actors": [
            {"key": a, "label": names.get(a, a), "count": n, "url": _url(request, actor=a)}
            for a, n in facets.actors
        ],
        "projects": sorted(
            (
                {"id": p, "label": names.get(p, p), "count": n}
                for p, n in facets.projects.items()
                if p
            ),
            key=lambda p: (-p["count"], p["label"]),
        ),
        "chips": _chips(request, f, names),
        "chart": audit_events_figure(counts, start=f.start, end=f.end) if facets.total else None,
        # Filled in by charts.js from the clicked bar: its day (or week) and the day after.
        "drilldown": _url(request, drop=["start", "end"], start="{x}", end="{customdata}")
        .replace("%7Bx%7D", "{x}")
        .replace("%7Bcustomdata%7D", "{customdata}"),
        "presets": [
            {
                "label": label,
                "url": _url(
                    request,
                    start=(today - dt.timedelta(days=days - 1)).isoformat(),
                    end=(today + dt.timedelta(days=1)).isoformat(),
                ),
                "active": f.end == today + dt.timedelta(days=1)
                and f.start == today - dt.timedelta(days=days - 1),
            }
            for label, days in PRESETS
        ],
        "all_time_url": _all_time_url(request, org, today),
        "clear_url": reverse("orgadmin:audit_log"),
        "clear_event_url": _url(request, page=request.GET.get("page", "")),
        "export_query": _query(request),
        "now": timezone.now(),
    }


def _all_time_url(request: HttpRequest, org: Organization, today: dt.date) -> str:
    first = selectors.audit_first_day(org=org) or today
    end = today + dt.timedelta(days=1)
    return _url(request, start=first.isoformat(), end=end.isoformat())


def _sync_context(org: Organization) -> dict[str, Any]:
    """The status of the audit log's sync, for its banner and the empty state."""
    return {"sync_status": selectors.sync_status(org=org, kind=SyncRun.Kind.AUDIT_LOG)}


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    org = request.org
    if org is None:
        return render(request, "orgadmin/audit_log.html", {"org": None})
    context = _explorer(request, org) | _sync_context(org)
    event_id = query_text(request, "event")
    if event_id and not request.htmx:
        context |= _drawer(org, event_id) or {"missing_event": event_id}
    template = "orgadmin/audit_log.html"
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, template, context)
    # The form sends every field, empty ones too: the address bar gets the tidy version.
    return push_url(
        render(request, fragment(request, template, "explorer"), context),
        _url(request, page=_page_param(request)),
    )


# --- the event drawer ---------------------------------------------------------------------


def _drawer(org: Organization, event_id: str) -> dict[str, Any] | None:
    event = selectors.audit_event_get(org=org, event_id=event_id)
    if event is None:
        return None
    history = selectors.audit_event_history(org=org, event=event)
    names = selectors.audit_names(org=org, ids=_ids_of([event, *history]))
    description = describe(event.raw, names=names, history=[e.raw for e in history])
    return {
        "event": event,
        "description": description,
        "links": [
            {"ref": ref, "page": page_link(ref), "history": _history_url(ref.id)}
            for ref in description.refs
        ],
        "history_count": len(history),
        "actor_label": _actor_label(event, names),
        "person_name": person_name(event.raw),
        "untyped": event.category == UNTYPED_CATEGORY,
        "provider_label": org.provider_info.label,
        "via": selectors.audit_dashboard_actors(org=org, events=[event]).get(event.pk),
        "key_name": names.get(event.api_key_id, ""),
        "project_label": names.get(event.project_id) or event.project_name,
        **_location(event.raw),
        "raw_json": json.dumps(event.raw, indent=2, ensure_ascii=False, sort_keys=False),
    }


def _location(raw: Any) -> dict[str, str]:
    """Where a session's address is, from the live API's `ip_address_details` (not in the spec;
    every value a string, and any of them may be missing): "San Francisco, California, US"."""
    actor = raw.get("actor") if isinstance(raw, dict) else None
    session = actor.get("session") if isinstance(actor, dict) else None
    details = session.get("ip_address_details") if isinstance(session, dict) else None
    if not isinstance(details, dict):
        return {"location": "", "network": ""}

    def text(key: str) -> str:
        value = details.get(key)
        return str(value).strip() if isinstance(value, str | int | float) else ""

    city, region, country = text("city"), text("region"), text("country")
    places = [city, region if region != city else "", country]
    asn = text("asn").upper().removeprefix("AS")
    return {
        "location": ", ".join(p for p in places if p),
        "network": f"AS{asn}" if asn else "",
    }


def _history_url(object_id: str) -> str:
    return (
        reverse("orgadmin:audit_log")
        + "?"
        + urlencode({"resource": object_id, "start": "2015-01-01"})
    )


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def audit_event(request: HttpRequest, event_id: str) -> HttpResponse:
    org = request.org
    context = _drawer(org, event_id) if org else None
    if request.htmx:
        # An event that is gone still answers 200: htmx swaps only 2xx, and the drawer says so.
        return render(request, "orgadmin/_audit_event.html", context or {"missing_event": event_id})
    if context is None:
        raise Http404("No such event in the synced audit log.")
    return render(request, "orgadmin/audit_event.html", context)


# --- exports -----------------------------------------------------------------------------

CSV_COLUMNS = [
    "id",
    "effective_at",
    "type",
    "category",
    "summary",
    "actor_type",
    "actor_email",
    "actor_id",
    "api_key_id",
    "ip_address",
    "user_agent",
    "project_id",
    "project_name",
    "resource_ids",
    # Who did it through this dashboard, when our action log explains the event.
    "dashboard_actor",
    # The event's place and link in the stored log's hash chain (orgadmin.audit.chain).
    "chain_seq",
    "chain_hash",
]


def _export_filters(request: HttpRequest) -> tuple[Organization, AuditFilters] | HttpResponse:
    org = request.org
    if org is None:
        return HttpResponseBadRequest("No organization is connected.", content_type="text/plain")
    form, f = _parse(request, org)
    if form.errors:
        return bad_filter(form)
    return org, f


def _filename(org: Organization, f: AuditFilters, extension: str) -> str:
    last = f.end - dt.timedelta(days=1)
    return f"audit-log-{slugify(org.name) or 'org'}-{f.start:%Y%m%d}-{last:%Y%m%d}.{extension}"


def _chunks(events: Iterator[AuditEvent]) -> Iterator[list[AuditEvent]]:
    chunk: list[AuditEvent] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == EXPORT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _csv_rows(org: Organization, events: Iterator[AuditEvent]) -> Iterator[list[str]]:
    for chunk in _chunks(events):
        names = selectors.audit_names(org=org, ids=_ids_of(chunk))
        via = selectors.audit_dashboard_actors(org=org, events=chunk)
        for event in chunk:
            yield [
                event.event_id,
                event.effective_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                event.type,
                event.category,
                describe(event.raw, names=names).sentence.text(),
                event.actor_type,
                event.actor_email,
                event.actor_id,
                event.api_key_id,
                event.ip_address,
                event.user_agent,
                event.project_id,
                event.project_name,
                " ".join(normalize(event.raw).resource_ids),
                via[event.pk].label if event.pk in via else "",
                event.chain_seq,
                event.chain_hash or "",
            ]


def _head_fields(head: ChainHead | None) -> dict[str, Any]:
    if head is None:
        return {"count": 0, "head": GENESIS, "at": None}
    at = head.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return {"count": head.count, "head": head.head, "at": at}


def _jsonl_lines(events: Iterator[AuditEvent], head: ChainHead | None) -> Iterator[str]:
    for event in events:
        yield json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")) + "\n"
    # Last, so that a download cut short lacks it; named like the API's own objects.
    trailer = {"object": "audit_log.chain_head", **_head_fields(head)}
    yield json.dumps(trailer, separators=(",", ":")) + "\n"


def _export(request: HttpRequest, extension: str, content_type: str) -> HttpResponse:
    parsed = _export_filters(request)
    if isinstance(parsed, HttpResponse):
        return parsed
    org, f = parsed
    head = chain_head(org=org)  # before the events: every row of the head's count is in it
    events = selectors.audit_events_export(org=org, f=f)
    if extension == "csv":
        lines = csv_stream(CSV_COLUMNS, _csv_rows(org, events))
    else:
        lines = _jsonl_lines(events, head)
    response = download(lines, filename=_filename(org, f, extension), content_type=content_type)
    fields = _head_fields(head)
    response["Audit-Chain-Count"] = str(fields["count"])
    response["Audit-Chain-Head"] = fields["head"]
    if fields["at"]:
        response["Audit-Chain-At"] = fields["at"]
    return response


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def audit_export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv", "text/csv; charset=utf-8")


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def audit_export_jsonl(request: HttpRequest) -> HttpResponse:
    return _export(request, "jsonl", "application/x-ndjson")


# --- sync now -----------------------------------------------------------------------------


@requires(Perm.MANAGE)
@require_POST
def audit_sync(request: HttpRequest) -> HttpResponse:
    queue = tasks.sync_audit_log.delay_on_commit
    return sync_now(request, kind=SyncRun.Kind.AUDIT_LOG, queue=queue)


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def audit_sync_status(request: HttpRequest) -> HttpResponse:
    return sync_status_response(request, kind=SyncRun.Kind.AUDIT_LOG)
