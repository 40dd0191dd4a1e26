"""What the Overview, Costs and Usage pages show: labels, URLs, chips and chart figures, shaped
for the templates from the finished tables of dashboard/tables.py.

Kept out of views.py so each view stays a few lines: parse, call this, render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join

from dashboard import charts, group_forecasts, selectors, tables
from dashboard.charts import Series
from dashboard.families import (
    COSTS_ENDPOINT,
    DIMENSION_LABELS,
    FAMILIES,
    NAMED_DIMENSIONS,
)
from dashboard.forms import WIDTHS, CostFilterForm, UsageFilterForm, timezone_names
from dashboard.periods import PRESETS, Period
from dashboard.selectors import CostQuery, UsageQuery
from dashboard.tables import CostTable, FamilyTrend, UsageReport
from orgadmin.access import may_use
from orgadmin.models import Organization
from orgadmin.providers import Capability
from orgadmin.selectors import refused_options

if TYPE_CHECKING:
    import plotly.graph_objects as go

_UNIT_OF_WIDTH = {"1d": "day", "1h": "hour"}


def group_label(group: tuple[str, ...], dims: tuple[str, ...], names: dict[str, str]) -> str:
    """How a person reads one combination of dimension values: names for ids, words for flags."""
    parts = []
    for dim, value in zip(dims, group, strict=False):
        if not value:
            parts.append(f"(no {DIMENSION_LABELS[dim].lower()})")
        elif dim == "batch":
            parts.append("Batch" if value == "true" else "Non-batch")
        elif dim in NAMED_DIMENSIONS:
            parts.append(names.get(value, value))
        else:
            parts.append(value)
    return " · ".join(parts) or "Total"


def cells(group: tuple[str, ...], dims: tuple[str, ...], names: dict[str, str]) -> list[dict]:
    return [
        {
            "dim": dim,
            "value": value,
            "label": group_label((value,), (dim,), names),
            "named": dim in NAMED_DIMENSIONS and value in names,
        }
        for dim, value in zip(dims, group, strict=False)
    ]


def audit_urls(days: list[dt.date], *, user: Any = None, org: Any = None) -> list[str]:
    """The audit log of each day: what changed around a bar on the Costs chart. None for a
    `user` who may not open the audit log of `org`: no link, no menu item leads to "not
    allowed"."""
    if user is not None and not may_use(user, "orgadmin:audit_log", org):
        return []
    try:
        base = reverse("orgadmin:audit_log")  # once: a page has a link per day of its period
    except NoReverseMatch:
        base = "/audit-log/"
    return [
        f"{base}?start={d.isoformat()}&end={(d + dt.timedelta(days=1)).isoformat()}" for d in days
    ]


def _filter_chips(form, path: str, names: dict[str, str]) -> list[dict]:
    chips = []
    for dim, values in form.cleaned_data["filters"]:
        labels = [group_label((v,), (dim,), names) for v in values]
        chips.append(
            {
                "label": DIMENSION_LABELS[dim],
                "value": ", ".join(labels),
                "remove": form.url(path, **{dim: None}),
            }
        )
    return chips


@lru_cache(maxsize=64)
def timezone_options(selected: str) -> str:
    """The ~600 <option>s of the timezone select, built once per selected zone."""
    return format_html_join(
        "",
        "<option{}>{}</option>",
        ((" selected" if name == selected else "", name) for name in timezone_names()),
    )


def filter_controls(*, form, path: str) -> dict[str, Any]:
    """What the filter bar shows: also for an invalid form, from what the person typed."""
    valid = form.is_valid()
    usage = isinstance(form, UsageFilterForm)
    dims = form.selected_family().dimensions if usage else form.dimensions
    labels = getattr(form, "group_labels", DIMENSION_LABELS)
    if valid:
        data = form.cleaned_data
        base = form.params(preset=None, start=None, end=None)
        group_by, tz, period = data["group_by"], data["tz"], data["period"]
    else:
        keep = ("tz", "family", "bucket_width", "metric")
        base = {k: form.data[k] for k in keep if form.data.get(k) and k not in form.errors}
        group_by, tz, period = (), form.data.get("tz") or form.default_tz, None
    current_preset = form.cleaned_data.get("preset") if valid else form.data.get("preset", "")
    controls: dict[str, Any] = {
        "presets": [
            {
                "key": key,
                "label": label,
                "url": f"{path}?{urlencode({**base, 'preset': key})}",
                "active": current_preset == key,
            }
            for key, label in PRESETS.items()
        ],
        "group_options": [
            {"value": d, "label": labels[d], "active": group_by == (d,)} for d in dims
        ],
        "combined_group": ",".join(group_by) if len(group_by) > 1 else "",
        "no_group": valid and not group_by,
        "timezone_options": timezone_options(tz),
        "period": period,
        "start": period.start.isoformat() if period else form.data.get("start", ""),
        "end": period.end.isoformat() if period else form.data.get("end", ""),
        # The "To" input: the last day, included (the URL keeps the exclusive end).
        "last": (period.end - dt.timedelta(days=1)).isoformat()
        if period
        else form.data.get("last", ""),
        "tz": tz,
        "tz_is_default": tz == form.default_tz,
        "usage": usage,
        # Fields whose errors show beside their own control in _filters.html.
        "own_controls": (
            "start",
            "end",
            "last",
            "group_by",
            "tz",
            *(("metric", "bucket_width") if usage else ()),
        ),
    }
    if usage:
        family = form.selected_family()
        controls["family"] = family
        controls["metric"] = form.cleaned_data.get("metric") if valid else family.default_metric
        controls["width"] = form.cleaned_data.get("bucket_width") if valid else "1d"
        controls["metric_options"] = [{"value": m.name, "label": m.label} for m in family.metrics]
        controls["width_options"] = WIDTHS
    return controls


# --- what the API does not offer -----------------------------------------------------------------


def _label(dim: str) -> str:
    label = DIMENSION_LABELS.get(dim, dim)
    return label if label[:3].isupper() else label.lower()  # "API key", "user"


def unavailable(
    *, org: Organization, endpoint: str, subject: str, dims: Iterable[str]
) -> list[dict[str, Any]]:
    """A note for each of `dims` that the API refuses to group `endpoint` by, so a page says so
    instead of showing a single empty group (e.g. "Cost by API key isn't offered...")."""
    capability = refused_options(org=org).get(endpoint)
    if capability is None:
        return []
    wanted = set(dims)
    notes = []
    for dim in capability.refused_groupings:
        if dim not in wanted:
            continue
        notes.append(
            {
                "dimension": dim,
                "label": _label(dim),
                "text": f"{subject} by {_label(dim)} isn't offered by this organization's API.",
                "message": capability.message,
                "request_id": capability.request_id,
                "checked_at": capability.checked_at,
            }
        )
    return notes


def _filtered_dims(form) -> list[str]:
    return [dim for dim, _ in form.cleaned_data["filters"]]


# --- shared by the Costs and Usage pages --------------------------------------------------------


def _drills(form, path: str, keys: Iterable[tuple[str, ...]], dims: tuple[str, ...]) -> dict:
    """The URL that narrows the page to each group ("" for a group with an empty value)."""
    return {k: form.url(path, **form.drill_params(k)) if dims and all(k) else "" for k in keys}


def export_targets(form, name: str) -> dict[str, Any]:
    """The export form's targets and the page's filters as its hidden fields; a URL for each
    kind of rows and format (without `rows`, an export has the daily rows, as before)."""
    action = {fmt: reverse(name, kwargs={"fmt": fmt}) for fmt in ("csv", "json")}
    urls = {
        (rows, fmt): form.url(action[fmt], rows=rows, precision="currency")
        for rows in ("table", "daily")
        for fmt in action
    }
    return {
        **{fmt: form.url(url) for fmt, url in action.items()},
        "action": action,
        "params": form.params(),
        "table": {fmt: urls[("table", fmt)] for fmt in action},
        "daily": {fmt: urls[("daily", fmt)] for fmt in action},
    }


def _dims(dims: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"key": d, "label": DIMENSION_LABELS[d]} for d in dims]


# --- costs ---------------------------------------------------------------------------------------


def _cost_table_rows(table: CostTable, dims, names, drills) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "cells": cells(g.key, dims, names),
                "amount": g.amount,
                "share": table.share(g),
                "quantity": g.quantity,
                "unit": g.unit,
                "drill": drills[g.key],
            }
            for g in table.groups
        ),
        key=lambda r: (-r["amount"], [c["label"] for c in r["cells"]]),
    )


def costs_context(
    *, org: Organization, form: CostFilterForm, path: str, user: Any = None
) -> dict[str, Any]:
    query: CostQuery = form.query()
    dims = query.group_by
    table = tables.cost_table(org=org, query=query)
    keys = [g.key for g in table.groups]
    names = selectors.label_ids(org=org, groups=keys, dims=dims)
    drills = _drills(form, path, keys, dims)
    links = audit_urls(table.days, user=user, org=org)
    series = [
        Series(group_label(g.key, dims, names), g.per_day, drill=drills[g.key], links=links)
        for g in table.groups
    ]
    return {
        "figure": charts.cost_by_day_figure(
            days=table.days, series=series, currency=table.currency
        ),
        "currency": table.currency,
        "other_currencies": table.other_currencies,
        "total": table.total,
        "daily_average": table.daily_average,
        "previous_total": table.previous_total,
        "change": table.change,
        "table": _cost_table_rows(table, dims, names, drills),
        "dims": _dims(dims),
        "daily": [
            {"day": d, "amount": amount, "audit": link}
            for d, amount, link in zip(
                table.days, table.daily, links or [""] * len(table.days), strict=True
            )
        ],
        "audit_links": bool(links),
        "chips": _filter_chips(form, path, names),
        "exports": export_targets(form, "costs_export"),
        "show_quantity": "line_item" in dims,
        "tz_note": str(query.period.tz) != "UTC",
        "unavailable": unavailable(
            org=org,
            endpoint=COSTS_ENDPOINT,
            subject="Cost",
            # A model is read from the line item: without line items there is none.
            dims=[("line_item" if d == "model" else d) for d in [*dims, *_filtered_dims(form)]],
        ),
    }


def costs_table_rows(*, org: Organization, form: CostFilterForm) -> dict[str, Any]:
    """The rows of the Costs page's table, as the page shows them ("this table" exports)."""
    query = form.query()
    dims = query.group_by
    table = tables.cost_table(org=org, query=query)
    keys = [g.key for g in table.groups]
    names = selectors.label_ids(org=org, groups=keys, dims=dims)
    return {
        "rows": _cost_table_rows(table, dims, names, dict.fromkeys(keys, "")),
        "dims": dims,
        "currency": table.currency,
        "show_quantity": "line_item" in dims,
    }


# --- usage ---------------------------------------------------------------------------------------


def usage_tabs(*, form: UsageFilterForm, path: str) -> dict[str, Any]:
    """One tab per family; switching keeps the period, the timezone and the bucket width."""
    current = form.data.get("family") or "completions"
    keep = {
        k: form.data[k]
        for k in ("preset", "start", "end", "tz", "bucket_width")
        if form.data.get(k)
    }
    return {
        "tabs": [
            {
                "slug": slug,
                "label": f.label,
                "url": f"{path}?{urlencode({**keep, 'family': slug})}",
                "active": slug == current,
            }
            for slug, f in FAMILIES.items()
        ]
    }


def _usage_rows(report: UsageReport, dims, names, drills) -> list[dict[str, Any]]:
    return [
        {
            "cells": cells(g.key, dims, names),
            "values": [{"value": g.totals[m.name], "unit": m.unit} for m in report.family.metrics],
            "drill": drills[g.key],
        }
        for g in report.ranked()
    ]


def _usage_figure(report: UsageReport, series: list[Series], width: str) -> go.Figure:
    family, metric = report.family, report.metric
    return charts.usage_over_time_figure(
        buckets=report.buckets,
        series=series,
        metric_label=metric.label,
        width=width,
        title=f"{family.label}: {metric.label.lower()} per {_UNIT_OF_WIDTH[width]}",
    )


def usage_context(*, org: Organization, form: UsageFilterForm, path: str) -> dict[str, Any]:
    query: UsageQuery = form.query()
    dims, family = query.group_by, query.family
    report = tables.usage_report(org=org, query=query, metric=form.cleaned_data["metric"])
    keys = [g.key for g in report.groups]
    names = selectors.label_ids(org=org, groups=keys, dims=dims)
    drills = _drills(form, path, keys, dims)
    series = [
        Series(group_label(g.key, dims, names), g.per_bucket, drill=drills[g.key])
        for g in report.groups
    ]
    return {
        "family": family,
        "metric": report.metric,
        "figure": _usage_figure(report, series, query.width),
        "table": _usage_rows(report, dims, names, drills),
        "grand": [
            {
                "value": report.grand[m.name],
                "unit": m.unit,
                "label": m.label + (" (average)" if m.over_time == "gauge" else ""),
            }
            for m in family.metrics
        ],
        "metric_columns": family.metrics,
        "dims": _dims(dims),
        "chips": _filter_chips(form, path, names),
        "exports": export_targets(form, "usage_export"),
        "unavailable": unavailable(
            org=org,
            endpoint=family.endpoint,
            subject=f"{family.label} usage",
            dims=[*dims, *_filtered_dims(form)],
        ),
        "extras": _usage_extras(report, query.width),
    }


def usage_table_rows(*, org: Organization, form: UsageFilterForm) -> dict[str, Any]:
    """The rows of the Usage page's table, as the page shows them ("this table" exports)."""
    query = form.query()
    report = tables.usage_report(org=org, query=query, metric=form.cleaned_data["metric"])
    keys = [g.key for g in report.groups]
    names = selectors.label_ids(org=org, groups=keys, dims=query.group_by)
    return {
        "rows": _usage_rows(report, query.group_by, names, dict.fromkeys(keys, "")),
        "dims": query.group_by,
        "metrics": [m.name for m in query.family.metrics],
    }


def _usage_extras(report: UsageReport, width: str) -> list[dict[str, Any]]:
    """The cache and batch split charts of the families that have them."""
    extras = []
    if report.cache is not None:
        cache = report.cache
        parts = [Series("Uncached input", cache.uncached), Series("Cached input", cache.cached)]
        figure = charts.split_figure(
            buckets=report.buckets,
            parts=parts,
            title="Cached vs uncached input tokens",
            y_title="Input tokens",
            width=width,
        )
        summary = "" if cache.share is None else f"{cache.share:.1f}% of input tokens were cached"
        extras.append({"id": "chart-cache", "figure": figure, "summary": summary})
    if report.batch is not None:
        batch, label = report.batch, report.metric.label
        parts = [Series("Non-batch", batch.non_batch), Series("Batch", batch.batch)]
        if any(batch.unknown):
            parts.append(Series("Unknown", batch.unknown))
        figure = charts.split_figure(
            buckets=report.buckets,
            parts=parts,
            title=f"Batch vs non-batch: {label.lower()}",
            y_title=label,
            width=width,
        )
        summary = f"{batch.share:.1f}% through the Batch API" if batch.share is not None else ""
        extras.append({"id": "chart-batch", "figure": figure, "summary": summary})
    return extras


# --- overview ---------------------------------------------------------------------------------


def _top_spenders(rows: list[dict], dimension: str, names: dict[str, str]) -> list[dict]:
    costs_url = reverse("costs")
    return [
        {
            **r,
            "label": names.get(r[dimension], r[dimension]),
            "url": f"{costs_url}?preset=30d&{dimension}={r[dimension]}&group_by=line_item",
        }
        for r in rows
    ]


def _sparklines(trends: list[FamilyTrend], dates: list[dt.date]) -> list[dict[str, Any]]:
    usage_url = reverse("usage")
    return [
        {
            "family": t.family,
            "unit": t.unit,
            "total": t.total,
            "gauge": t.gauge,
            "figure": charts.sparkline_figure(days=dates, values=t.values),
            "url": f"{usage_url}?family={t.family.slug}&preset=30d",
        }
        for t in trends
    ]


_THIRTY_DAYS = {"preset": "30d", "group_by": "line_item"}


def overview_context(*, org: Organization, now: dt.datetime) -> dict[str, Any]:
    tz = ZoneInfo(selectors.reporting_timezone(org=org))
    today = now.astimezone(tz).date()
    spend = tables.month_spend(org=org, today=today)
    window = Period(today - dt.timedelta(days=29), today + dt.timedelta(days=1), tz)
    top = {
        dim: selectors.top_costs(
            org=org, start=window.start, end=window.end, dimension=dim, currency=spend.currency
        )
        for dim in ("project_id", "api_key_id")
    }
    # This month's projects and models, each forecast as stored after the last sync (no fit).
    groups = group_forecasts.month_groups(org=org, today=today, currency=spend.currency)
    ids = [*(r[d] for d, rows in top.items() for r in rows), *groups.project_ids]
    names = selectors.names_for(org=org, ids=ids)
    return {
        "finance": True,
        "currency": spend.currency,
        "mtd": spend.month_to_date,
        "last_mtd": spend.last_month_to_date,
        "mtd_change": spend.change,
        "same_day_last_month": spend.same_day_last_month,
        "forecast": spend.forecast,
        "month_label": today.strftime("%B %Y"),
        "top_projects": _top_spenders(top["project_id"], "project_id", names),
        "top_keys": _top_spenders(top["api_key_id"], "api_key_id", names),
        "keys_unavailable": unavailable(
            org=org, endpoint=COSTS_ENDPOINT, subject="Cost", dims=["api_key_id"]
        ),
        # Ranked by dollars (their line items added up), tokens beside; each opens its costs.
        "top_models": [
            {**r, "url": f"{reverse('costs')}?{urlencode({**_THIRTY_DAYS, 'model': r['model']})}"}
            for r in selectors.top_cost_models(
                org=org, start=window.start, end=window.end, currency=spend.currency
            )
        ],
        # Token usage by family is OpenAI's: an xAI team's API reports costs only.
        "sparklines": (
            _sparklines(tables.family_trends(org=org, period=window), window.dates())
            if org.has_capability(Capability.USAGE)
            else []
        ),
        "group_forecasts": group_forecasts.group_tables(
            groups=groups,
            forecasts=group_forecasts.stored_forecasts(org=org, groups=groups),
            names=names,
        ),
        "tz_name": str(tz),
        "window": window,  # the last 30 days, for its range label
    }
