"""What the All organizations pages show: Overview and Costs over every connection where the
person may read spend, shaped like dashboard/pages.py does for one, from dashboard/tables.py.

Which connections: those of `request.orgs` (the ones the person holds a role on) where they hold
VIEW_SPEND (Finance or Admin); the view is offered from two of them. A person with Finance on A
and Auditor on B is not offered it: B's costs are not theirs to read.

Days are UTC days here. Each organization has its own reporting timezone, and OpenAI reports
costs per UTC day (an xAI team's are synced by UTC day too): one day for all of them can only be
UTC's. Each row names its connection's provider ("OpenAI", "xAI"), so that an OpenAI
organization and an xAI team are told apart side by side. Amounts in two currencies are never
added together: totals, shares and charts are per currency.

A row opens that organization's own Costs through the organization switcher (a POST to
orgadmin's switch_org, which checks the organization against the person's and goes to `next`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from dashboard import charts, selectors, tables
from dashboard.charts import Series
from dashboard.families import DIMENSION_LABELS
from dashboard.forms import AllCostFilterForm
from dashboard.pages import export_targets, filter_controls, group_label
from dashboard.periods import Period
from dashboard.tables import AllCostTable
from orgadmin.access import Perm
from orgadmin.models import Organization, SyncRun

UTC = ZoneInfo("UTC")
ORGANIZATION = {"key": "organization", "label": "Organization"}

# What a row's link groups that organization's Costs by, after narrowing to the row's value.
_DRILL_NEXT = {"": "line_item", "project_id": "line_item", "line_item": "project_id"}


def spend_connections(user: Any, orgs: Sequence[Organization]) -> list[Organization]:
    """The connections among `orgs` (the person's: request.orgs) whose costs `user` may read."""
    return [org for org in orgs if user.has_perm(Perm.VIEW_SPEND, org)]


def provider_names(orgs: Sequence[Organization]) -> str:
    """The providers of these connections, for a sentence: "OpenAI", "OpenAI and xAI"."""
    labels = sorted({org.provider_info.label for org in orgs}, key=str.lower)
    return " and ".join(labels) if len(labels) < 3 else ", ".join(labels)


def offered(user: Any, orgs: Sequence[Organization]) -> bool:
    """Whether the All organizations view is for this person: spend on two connections or more."""
    return len(spend_connections(user, orgs)) >= 2


def _period_params(form: AllCostFilterForm) -> dict[str, str]:
    data = form.cleaned_data
    if data["preset"]:
        return {"preset": data["preset"], "tz": "UTC"}
    period = data["period"]
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "tz": "UTC"}


def org_link(org: Organization, params: dict[str, str], dim: str = "", value: str = "") -> dict:
    """The switcher's fields that open `org`'s Costs for the same UTC days, narrowed to a row's
    value (`dim`, `value`) when it has one."""
    query = {**params, "group_by": _DRILL_NEXT.get(dim, "line_item")}
    if dim and value:
        query[dim] = value
    elif dim:  # e.g. the costs of no project: that organization's costs by the same dimension
        query["group_by"] = dim
    return {"org": org.pk, "name": org.name, "next": f"{reverse('costs')}?{urlencode(query)}"}


def _org_rows(
    table: AllCostTable, orgs: Sequence[Organization], params: dict, synced: dict
) -> list[dict[str, Any]]:
    """Each organization's total per currency; an organization with no costs at all, once."""
    by_id = {org.pk: org for org in orgs}

    def row(org: Organization, total: tables.OrgTotal | None) -> dict[str, Any]:
        return {
            "org": org,
            "provider": org.provider_info.label,
            "currency": total.currency if total else "",
            "amount": total.amount if total else None,
            "previous": total.previous if total else None,
            "change": total.change if total else None,
            "share": table.share(total.amount, total.currency) if total else None,
            "synced": synced.get(org.pk),
            "readable": org.key_may_read("costs"),
            "link": org_link(org, params),
        }

    rows = [row(by_id[t.org_id], t) for t in table.orgs]
    seen = {t.org_id for t in table.orgs}
    return rows + [row(org, None) for org in orgs if org.pk not in seen]


def _cell(org: Organization, dim: str, value: str, names: dict) -> dict[str, Any]:
    name = names.get((org.pk, value))
    label = name or group_label((value,), (dim,), {})
    return {"dim": dim, "value": value, "label": label, "named": name is not None}


def _group_rows(
    table: AllCostTable, orgs: Sequence[Organization], dim: str, names: dict, params: dict
) -> list[dict[str, Any]]:
    """The grouped table: per currency (as table.currencies), the biggest first."""
    by_id = {org.pk: org for org in orgs}
    rows = []
    for currency in table.currencies:
        groups = sorted(table.groups[currency], key=lambda g: -g.amount)
        for g in groups:
            org = by_id[g.key[0]]
            value = g.key[1] if dim else ""
            org_cell = {"dim": "organization", "value": org.name, "label": org.name}
            rows.append(
                {
                    "org": org,
                    "provider": org.provider_info.label,
                    "cells": [
                        {**org_cell, "named": False},
                        *([_cell(org, dim, value, names)] if dim else []),
                    ],
                    "currency": currency,
                    "amount": g.amount,
                    "share": table.share(g.amount, currency),
                    "quantity": g.quantity,
                    "unit": g.unit,
                    "link": org_link(org, params, dim, value),
                }
            )
    return rows


def _names(orgs: Sequence[Organization], table: AllCostTable, dim: str) -> dict:
    if dim != "project_id":
        return {}
    ids = [g.key[1] for groups in table.groups.values() for g in groups]
    return selectors.org_project_names(orgs=orgs, ids=ids)


def _figures(table: AllCostTable, rows: list[dict], dim: str) -> list[dict[str, Any]]:
    """One chart per currency: each day's costs stacked by organization (and group)."""
    figures = []
    for currency in table.currencies:
        series = [
            Series(" · ".join(c["label"] for c in row["cells"]), per_day)
            for row, per_day in _per_day(table, rows, currency, dim)
        ]
        figure = charts.cost_by_day_figure(days=table.days, series=series, currency=currency)
        figures.append({"currency": currency, "id": f"chart-costs-{currency}", "figure": figure})
    return figures


def _per_day(table: AllCostTable, rows: list[dict], currency: str, dim: str):
    per_day = {g.key: g.per_day for g in table.groups[currency]}
    for row in rows:
        if row["currency"] == currency:
            key = (row["org"].pk, row["cells"][1]["value"]) if dim else (row["org"].pk,)
            yield row, per_day[key]


def all_filter_controls(*, form: AllCostFilterForm, path: str) -> dict[str, Any]:
    """The Costs filter bar, without a timezone (UTC days) or an ungrouped choice."""
    return {**filter_controls(form=form, path=path), "fixed_tz": True, "always_grouped": True}


def all_costs_context(*, orgs: Sequence[Organization], form: AllCostFilterForm) -> dict[str, Any]:
    query = form.query()
    dim = query.group_by[0] if query.group_by else ""
    table = tables.all_cost_table(orgs=orgs, query=query)
    params = _period_params(form)
    rows = _group_rows(table, orgs, dim, _names(orgs, table, dim), params)
    synced = selectors.org_last_synced(orgs=orgs, kind=SyncRun.Kind.USAGE)
    return {
        "providers": provider_names(orgs),
        "currencies": table.by_currency(),
        "org_rows": _org_rows(table, orgs, params, synced),
        "table": rows,
        "dims": [ORGANIZATION, *([{"key": dim, "label": DIMENSION_LABELS[dim]}] if dim else [])],
        "figures": _figures(table, rows, dim),
        "daily": [
            {"day": d, "amounts": [(c, table.daily[c][i]) for c in table.currencies]}
            for i, d in enumerate(table.days)
        ],
        "exports": export_targets(form, "all_costs_export"),
        "show_quantity": dim == "line_item",
    }


def all_costs_table_rows(
    *, orgs: Sequence[Organization], form: AllCostFilterForm
) -> dict[str, Any]:
    """The rows of the All organizations Costs table, as the page shows them ("this table"
    exports): an organization column first, each row in its own currency."""
    query = form.query()
    dim = query.group_by[0] if query.group_by else ""
    table = tables.all_cost_table(orgs=orgs, query=query)
    rows = _group_rows(table, orgs, dim, _names(orgs, table, dim), _period_params(form))
    return {
        "rows": rows,
        "dims": ("organization", *query.group_by),
        "show_quantity": dim == "line_item",
    }


# --- overview ------------------------------------------------------------------------------------


def all_overview_context(*, orgs: Sequence[Organization], now: dt.datetime) -> dict[str, Any]:
    """This month so far per organization and per currency, and the top projects of the last 30
    days across organizations, in UTC days (four queries)."""
    today = now.astimezone(UTC).date()
    spend = tables.org_month_spend(orgs=orgs, today=today)
    synced = selectors.org_last_synced(orgs=orgs, kind=SyncRun.Kind.USAGE)
    month = {"preset": "mtd", "tz": "UTC"}
    rows = [
        {"org": org, "provider": org.provider_info.label, "spend": spend[org.pk],
         "synced": synced.get(org.pk),
         "readable": org.key_may_read("costs"), "link": org_link(org, month)}
        for org in orgs
    ]  # fmt: skip
    totals = tables.month_totals(spend.values())
    order = {t.currency: i for i, t in enumerate(totals)}  # a currency's rows together
    rows.sort(key=lambda r: (order[r["spend"].currency], -r["spend"].month_to_date, r["org"].name))
    window = Period(today - dt.timedelta(days=29), today + dt.timedelta(days=1), UTC)
    currency = totals[0].currency if totals else "usd"  # the top projects' (most spent)
    return {
        "providers": provider_names(orgs),
        "org_rows": rows,
        "totals": totals,
        "same_day_last_month": next(iter(spend.values())).same_day_last_month,
        "month_label": today.strftime("%B %Y"),
        "window": window,
        "top_currency": currency,
        "top_projects": _top_projects(orgs, window, currency),
    }


def _top_projects(orgs: Sequence[Organization], window: Period, currency: str) -> list[dict]:
    rows = selectors.org_top_projects(
        orgs=orgs, start=window.start, end=window.end, currency=currency
    )
    names = selectors.org_project_names(orgs=orgs, ids=[r["project_id"] for r in rows])
    by_id = {org.pk: org for org in orgs}
    params = {"preset": "30d", "tz": "UTC"}
    return [
        {
            "org": by_id[r["org_id"]],
            "label": names.get((r["org_id"], r["project_id"]), r["project_id"]),
            "amount": r["amount"],
            "currency": currency,
            "link": org_link(by_id[r["org_id"]], params, "project_id", r["project_id"]),
        }
        for r in rows
    ]
