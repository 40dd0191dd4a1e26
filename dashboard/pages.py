"""What the Overview, Costs and Usage pages show, built from selectors for the templates.

Kept out of views.py so each view stays a few lines: parse, call this, render.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join

from dashboard import charts, selectors
from dashboard.charts import Series
from dashboard.families import (
    COSTS_ENDPOINT,
    DIMENSION_LABELS,
    FAMILIES,
    HEADLINE,
    NAMED_DIMENSIONS,
)
from dashboard.forms import WIDTHS, CostFilterForm, UsageFilterForm, timezone_names
from dashboard.periods import PRESETS, Period, add_months, bucket_starts, first_of_month
from dashboard.selectors import CostQuery, UsageQuery
from orgadmin.models import Organization
from orgadmin.selectors import refused_options

ZERO = Decimal(0)
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


def _cells(group: tuple[str, ...], dims: tuple[str, ...], names: dict[str, str]) -> list[dict]:
    return [
        {
            "dim": dim,
            "value": value,
            "label": group_label((value,), (dim,), names),
            "named": dim in NAMED_DIMENSIONS and value in names,
        }
        for dim, value in zip(dims, group, strict=False)
    ]


def audit_urls(days: list[dt.date]) -> list[str]:
    """The audit log of each day: what changed around a bar on the Costs chart."""
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
    dims = form.selected_family().dimensions if usage else ("line_item", "project_id", "api_key_id")
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
            {"value": d, "label": DIMENSION_LABELS[d], "active": group_by == (d,)} for d in dims
        ],
        "combined_group": ",".join(group_by) if len(group_by) > 1 else "",
        "no_group": valid and not group_by,
        "timezone_options": timezone_options(tz),
        "period": period,
        "start": period.start.isoformat() if period else form.data.get("start", ""),
        "end": period.end.isoformat() if period else form.data.get("end", ""),
        "tz": tz,
        "tz_is_default": tz == form.default_tz,
        "usage": usage,
        # Fields whose errors show beside their own control in _filters.html.
        "own_controls": (
            "start",
            "end",
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


def sync_status(
    *,
    freshness: selectors.Freshness,
    now: dt.datetime,
    run: Any = None,
    since: dt.datetime | None = None,
) -> dict[str, Any]:
    """The freshness banner: the run it follows, and whether it should keep polling."""
    run = run or (freshness.latest if since is None else None)
    waiting = since is not None and run is None
    return {
        "freshness": freshness,
        "run": run,
        "since": since,
        "waiting": waiting,
        "poll": waiting or (run is not None and run.is_running),
        "stale": freshness.stale(now),
    }


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


# --- costs ---------------------------------------------------------------------------------------


def costs_context(*, org: Organization, form: CostFilterForm, path: str) -> dict[str, Any]:
    query: CostQuery = form.query()
    dims, days = query.group_by, query.period.dates()
    rows = selectors.cost_rows(org=org, query=query)
    # Integer pico-dollars until the end: exact and fast; Decimal for what is shown.
    by_currency: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for day, _, row_currency, units, _, _ in rows:
        by_currency[row_currency][day] += units
    currency = max(by_currency, key=lambda c: (sum(by_currency[c].values()), c), default="usd")
    groups: dict[tuple, dict[str, Any]] = {}
    for day, key, row_currency, units, quantity, unit in rows:
        if row_currency != currency:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"amount": 0, "quantity": None, "unit": "", "by_day": {}}
        group["amount"] += units
        by_day = group["by_day"]
        by_day[day] = by_day.get(day, 0) + units
        if quantity is not None:
            group["quantity"] = (group["quantity"] or 0) + quantity
            group["unit"] = group["unit"] or unit
    scale = 10**selectors.AMOUNT_PLACES
    for key, group in groups.items():
        by_day = group["by_day"]
        group["values"] = [by_day.get(d, 0) / scale for d in days]
        group["amount"] = selectors.to_amount(group["amount"])
        group["quantity"] = selectors.to_quantity(group["quantity"])
        group["drill"] = form.url(path, **form.drill_params(key)) if dims and all(key) else ""
    names = selectors.label_ids(org=org, groups=groups, dims=dims)
    links = audit_urls(days)
    series = [
        Series(
            name=group_label(key, dims, names), values=g["values"], drill=g["drill"], links=links
        )
        for key, g in groups.items()
    ]
    daily = {d: selectors.to_amount(v) for d, v in by_currency.get(currency, {}).items()}
    total = sum(daily.values(), ZERO)
    previous_total = selectors.cost_total(
        org=org, query=CostQuery(query.period.previous(), (), query.filters), currency=currency
    )
    table = sorted(
        (
            {
                "cells": _cells(key, dims, names),
                "amount": g["amount"],
                "share": (g["amount"] / total * 100) if total else ZERO,
                "quantity": g["quantity"],
                "unit": g["unit"],
                "drill": g["drill"],
            }
            for key, g in groups.items()
        ),
        key=lambda r: (-r["amount"], [c["label"] for c in r["cells"]]),
    )
    return {
        "figure": charts.cost_by_day_figure(days=days, series=series, currency=currency),
        "currency": currency,
        "other_currencies": sorted(
            (c, selectors.to_amount(sum(v.values())))
            for c, v in by_currency.items()
            if c != currency
        ),
        "total": total,
        "daily_average": total / len(days) if days else ZERO,
        "previous_total": previous_total,
        "change": _change(total, previous_total),
        "table": table,
        "dims": [{"key": d, "label": DIMENSION_LABELS[d]} for d in dims],
        "daily": [
            {"day": d, "amount": daily.get(d, ZERO), "audit": link}
            for d, link in zip(days, links, strict=True)
        ],
        "chips": _filter_chips(form, path, names),
        "exports": {
            fmt: form.url(reverse("costs_export", kwargs={"fmt": fmt})) for fmt in ("csv", "json")
        },
        "show_quantity": "line_item" in dims,
        "tz_note": str(query.period.tz) != "UTC",
        "unavailable": unavailable(
            org=org, endpoint=COSTS_ENDPOINT, subject="Cost", dims=[*dims, *_filtered_dims(form)]
        ),
    }


def _change(now: Decimal, before: Decimal) -> Decimal | None:
    if not before:
        return None
    return (now - before) / before * 100


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


def _local(buckets: list[dt.datetime], tz: ZoneInfo) -> list[dt.datetime]:
    return [b.astimezone(tz) for b in buckets]


def usage_context(*, org: Organization, form: UsageFilterForm, path: str) -> dict[str, Any]:
    query: UsageQuery = form.query()
    family, metric_name = query.family, form.cleaned_data["metric"]
    metric = family.metric(metric_name)
    table = selectors.usage_table(org=org, query=query)
    buckets = bucket_starts(query.period, query.width)
    groups = table.groups()
    names = selectors.label_ids(org=org, groups=groups, dims=query.group_by)
    drills = {
        g: form.url(path, **form.drill_params(g)) if query.group_by and all(g) else ""
        for g in groups
    }
    cells = table.cells
    series = [
        Series(
            name=group_label(g, query.group_by, names),
            values=[(cells.get((b, g)) or {}).get(metric_name) or 0 for b in buckets],
            drill=drills[g],
        )
        for g in groups
    ]
    local = _local(buckets, query.period.tz)
    totals = table.totals()
    rows = sorted(
        (
            {
                "cells": _cells(g, query.group_by, names),
                "values": [{"value": totals[g][m.name], "unit": m.unit} for m in family.metrics],
                "sort": totals[g][metric_name] or 0,
                "drill": drills[g],
            }
            for g in groups
        ),
        key=lambda r: -r["sort"],
    )
    grand = [
        {
            "value": _grand_total([totals[g][m.name] for g in groups]),
            "unit": m.unit,
            "label": m.label + (" (average)" if m.over_time == "gauge" else ""),
        }
        for m in family.metrics
    ]
    context: dict[str, Any] = {
        "family": family,
        "metric": metric,
        "figure": charts.usage_over_time_figure(
            buckets=local,
            series=series,
            metric_label=metric.label,
            width=query.width,
            title=f"{family.label}: {metric.label.lower()} per {_UNIT_OF_WIDTH[query.width]}",
        ),
        "table": rows,
        "grand": grand,
        "metric_columns": family.metrics,
        "dims": [{"key": d, "label": DIMENSION_LABELS[d]} for d in query.group_by],
        "chips": _filter_chips(form, path, names),
        "exports": {
            fmt: form.url(reverse("usage_export", kwargs={"fmt": fmt})) for fmt in ("csv", "json")
        },
        "unavailable": unavailable(
            org=org,
            endpoint=family.endpoint,
            subject=f"{family.label} usage",
            dims=[*query.group_by, *_filtered_dims(form)],
        ),
        "extras": [],
    }
    if "cache" in family.extras:
        context["extras"].append(_cache_split(table, buckets, local, query.width))
    if "batch" in family.extras:
        context["extras"].append(
            _batch_split(org, query, metric_name, metric.label, buckets, local)
        )
    return context


def _grand_total(values: list) -> float | int | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return sum(present)  # gauges: bytes stored across groups add up (each is a mean over time)


def _cache_split(table, buckets, local, width) -> dict[str, Any]:
    cached = defaultdict(int)
    uncached = defaultdict(int)
    for (bucket, _), values in table.cells.items():
        c = values.get("input_cached_tokens") or 0
        u = values.get("input_uncached_tokens")
        if u is None:  # older buckets: input_tokens includes cached and cache-write tokens
            u = (
                (values.get("input_tokens") or 0)
                - c
                - (values.get("input_cache_write_tokens") or 0)
            )
        cached[bucket] += c
        uncached[bucket] += u
    parts = [
        Series(name="Uncached input", values=[uncached[b] for b in buckets]),
        Series(name="Cached input", values=[cached[b] for b in buckets]),
    ]
    total_c, total_u = sum(cached.values()), sum(uncached.values())
    share = total_c / (total_c + total_u) * 100 if total_c + total_u else None
    return {
        "id": "chart-cache",
        "figure": charts.split_figure(
            buckets=local,
            parts=parts,
            title="Cached vs uncached input tokens",
            y_title="Input tokens",
            width=width,
        ),
        "summary": f"{share:.1f}% of input tokens were cached" if share is not None else "",
    }


def _batch_split(
    org, query: UsageQuery, metric_name, metric_label, buckets, local
) -> dict[str, Any]:
    split = selectors.usage_table(
        org=org,
        query=UsageQuery(query.family, query.period, query.width, ("batch",), query.filters),
    )
    by = {"true": defaultdict(int), "false": defaultdict(int), "": defaultdict(int)}
    for (bucket, (batch,)), values in split.cells.items():
        by.setdefault(batch, defaultdict(int))[bucket] += values.get(metric_name) or 0
    parts = [
        Series(name="Non-batch", values=[by["false"][b] for b in buckets]),
        Series(name="Batch", values=[by["true"][b] for b in buckets]),
    ]
    if any(by[""].values()):
        parts.append(Series(name="Unknown", values=[by[""][b] for b in buckets]))
    batch_total = sum(by["true"].values())
    total = batch_total + sum(by["false"].values()) + sum(by[""].values())
    return {
        "id": "chart-batch",
        "figure": charts.split_figure(
            buckets=local,
            parts=parts,
            title=f"Batch vs non-batch: {metric_label.lower()}",
            y_title=metric_label,
            width=query.width,
        ),
        "summary": f"{batch_total / total * 100:.1f}% through the Batch API" if total else "",
    }


# --- overview ---------------------------------------------------------------------------------


def overview_context(*, org: Organization, now: dt.datetime) -> dict[str, Any]:
    tz = ZoneInfo(selectors.reporting_timezone(org=org))
    today = now.astimezone(tz).date()
    month_start = first_of_month(today)
    last_month_start = add_months(month_start, -1)
    spend = selectors.daily_spend(org=org, start=last_month_start, end=today + dt.timedelta(days=1))
    currency = selectors.main_currency(spend)
    days = spend.get(currency, {})

    def total(start: dt.date, end: dt.date) -> Decimal:
        return sum((v for d, v in days.items() if start <= d < end), ZERO)

    mtd = total(month_start, today + dt.timedelta(days=1))
    last_month_days = calendar.monthrange(last_month_start.year, last_month_start.month)[1]
    same_point = last_month_start + dt.timedelta(days=min(today.day, last_month_days))
    last_mtd = total(last_month_start, same_point)
    month_days = calendar.monthrange(today.year, today.month)[1]
    # Run rate: the last 7 complete days; today is still filling up, so it's estimated too.
    rate = total(today - dt.timedelta(days=7), today) / 7
    projected = total(month_start, today) + rate * (month_days - today.day + 1)
    window = Period(today - dt.timedelta(days=29), today + dt.timedelta(days=1), tz)
    top_projects = selectors.top_costs(
        org=org, start=window.start, end=window.end, dimension="project_id", currency=currency
    )
    top_keys = selectors.top_costs(
        org=org, start=window.start, end=window.end, dimension="api_key_id", currency=currency
    )
    keys_unavailable = unavailable(
        org=org, endpoint=COSTS_ENDPOINT, subject="Cost", dims=["api_key_id"]
    )
    top_models = selectors.top_models(org=org, start=window.utc_start, end=window.utc_end)
    names = selectors.names_for(
        org=org,
        ids=[r["project_id"] for r in top_projects] + [r["api_key_id"] for r in top_keys],
    )
    daily = selectors.family_daily_totals(org=org, period=window)
    dates = window.dates()
    sparklines = []
    for slug, family in FAMILIES.items():
        values = [daily[slug].get(d, 0) for d in dates]
        metric = family.metric(HEADLINE[slug][0])
        gauge = metric.over_time == "gauge"
        sparklines.append(
            {
                "family": family,
                "unit": "tokens" if len(HEADLINE[slug]) > 1 else metric.unit,
                "total": (sum(values) / len(values)) if gauge else sum(values),
                "gauge": gauge,
                "figure": charts.sparkline_figure(days=dates, values=values),
                "url": f"{reverse('usage')}?family={slug}&preset=30d",
            }
        )
    costs_url, usage_url = reverse("costs"), reverse("usage")
    return {
        "finance": True,
        "currency": currency,
        "mtd": mtd,
        "last_mtd": last_mtd,
        "mtd_change": _change(mtd, last_mtd),
        "same_day_last_month": same_point - dt.timedelta(days=1),
        "projected": projected,
        "run_rate": rate,
        "month_label": today.strftime("%B %Y"),
        "top_projects": [
            {
                **r,
                "label": names.get(r["project_id"], r["project_id"]),
                "url": f"{costs_url}?preset=30d&project_id={r['project_id']}&group_by=line_item",
            }
            for r in top_projects
        ],
        "top_keys": [
            {
                **r,
                "label": names.get(r["api_key_id"], r["api_key_id"]),
                "url": f"{costs_url}?preset=30d&api_key_id={r['api_key_id']}&group_by=line_item",
            }
            for r in top_keys
        ],
        "keys_unavailable": keys_unavailable,
        "top_models": [
            {
                **r,
                "url": f"{usage_url}?family=completions&preset=30d&model={r['model']}"
                "&group_by=project_id",
            }
            for r in top_models
        ],
        "sparklines": sparklines,
        "status": sync_status(freshness=selectors.usage_freshness(org=org), now=now),
        "tz_name": str(tz),
    }
