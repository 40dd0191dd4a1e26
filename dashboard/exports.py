"""Streamed CSV and JSON exports of costs and usage, from the same queries as the pages.

Two kinds of rows: "this table", the grouped totals a page shows (the very rows of its table,
handed over by the view), and "daily rows", one per bucket and group, which come from the
database in chunks and leave as text as they are made, so an export of any size runs in constant
memory. An ungrouped dimension is empty (null in JSON); money is a plain decimal, never a float,
rounded to the currency's minor unit (cents) unless the person asks for every digit
(`precision=full`, the page's "Full precision" box). CSV goes through
orgadmin.csv_export, the writer every export shares.

A dimension the API refuses to group by (see ApiCapability) is named so in the CSV's header,
"api_key_id (not offered by this organization's API)", instead of passing for an empty one.

Every cost export has a `provider` column ("OpenAI", "xAI": the connection's provider), so that
the costs of an OpenAI organization and an xAI team stay told apart side by side.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dashboard.families import COSTS_ENDPOINT
from dashboard.selectors import (
    CostQuery,
    UsageQuery,
    cost_export_rows,
    cost_project_ids,
    names_for,
    org_project_names,
    to_amount,
    to_quantity,
    usage_export_rows,
)
from orgadmin.csv_export import csv_stream, plain
from orgadmin.models import Organization
from orgadmin.selectors import refused_options

COST_COLUMNS = (
    "date",
    "provider",
    "project_id",
    "project_name",
    "line_item",
    "api_key_id",
    "amount",
    "currency",
    "quantity",
)

_AT = COST_COLUMNS.index("line_item") + 1
COST_COLUMNS_WITH_MODEL = (*COST_COLUMNS[:_AT], "model", *COST_COLUMNS[_AT:])

NOT_OFFERED = "not offered by this organization's API"


def _header(org: Organization, endpoint: str, columns: Iterable[str]) -> list[str]:
    """The CSV header, saying which dimension columns the API refuses to fill."""
    capability = refused_options(org=org).get(endpoint)
    refused = set(capability.refused_groupings) if capability else set()
    return [f"{c} ({NOT_OFFERED})" if c in refused else c for c in columns]


def _json(rows: Iterable[list[tuple[str, str]]]) -> Iterator[str]:
    """Objects whose values are already JSON text (numbers stay exact decimals)."""
    yield "["
    first = True
    for row in rows:
        body = ", ".join(f"{json.dumps(key)}: {value}" for key, value in row)
        yield ("\n  {" if first else ",\n  {") + body + "}"
        first = False
    yield "\n]\n" if not first else "]\n"


# Digits after the point of each currency's minor unit (ISO 4217); 2 when not listed.
CURRENCY_PLACES = {"jpy": 0, "krw": 0, "vnd": 0, "clp": 0, "isk": 0, "bhd": 3, "kwd": 3, "jod": 3}


def money(amount: Decimal | None, currency: str, *, full: bool) -> Decimal | None:
    """An amount as exported: every digit, or rounded half up to the currency's minor unit."""
    if amount is None or full:
        return amount
    places = CURRENCY_PLACES.get(currency.lower(), 2)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _cell_json(value: Any) -> str:
    if value is None or isinstance(value, str):
        return _text(value or "")
    return _number(value)


def table_export(
    columns: list[str], rows: Iterable[list[Any]], *, fmt: str, filename: str
) -> tuple[Iterator[str], str]:
    """A finished table (the one on screen) as CSV or JSON text chunks, and its file name."""
    if fmt == "csv":
        return csv_stream(columns, rows), filename
    return _json(list(zip(columns, map(_cell_json, row), strict=True)) for row in rows), filename


def _text(value: str) -> str:
    return json.dumps(value) if value else "null"


def _number(value: Any) -> str:
    return plain(value) if value is not None else "null"


# --- costs -----------------------------------------------------------------------------------


def _cost_rows(org: Organization, query: CostQuery, full: bool) -> Iterator[dict[str, Any]]:
    names: dict[str, str] = {}
    if "project_id" in query.group_by:
        names = names_for(org=org, ids=cost_project_ids(org=org, query=query))
    provider = org.provider_info.label
    for row in cost_export_rows(org=org, query=query):
        project = row.get("project_id", "")
        yield _cost_row(row, names.get(project, "") if project else "", full, provider)


def _cost_row(row: dict[str, Any], project_name: str, full: bool, provider: str) -> dict[str, Any]:
    """One daily cost row as the exports write it."""
    return {
        "date": row["day"].isoformat(),
        "provider": provider,
        "project_id": row.get("project_id", ""),
        "project_name": project_name,
        "line_item": row.get("line_item", ""),
        "model": row.get("model", ""),
        "api_key_id": row.get("api_key_id", ""),
        "amount": money(to_amount(row["amount_units"]), row["currency"], full=full),
        "currency": row["currency"],
        "quantity": to_quantity(row.get("quantity_units")),
    }


def costs_export(
    *, org: Organization, query: CostQuery, fmt: str, full: bool = True
) -> tuple[Iterator[str], str]:
    """The daily cost rows of a period as CSV or JSON text chunks, and a file name."""
    period = query.period
    filename = f"costs_{period.start.isoformat()}_{period.end.isoformat()}.{fmt}"
    rows = _cost_rows(org, query, full)
    # The model column comes with a grouping by model (a URL of before keeps its columns).
    columns = COST_COLUMNS if "model" not in query.group_by else COST_COLUMNS_WITH_MODEL
    header = _header(org, COSTS_ENDPOINT, columns) if fmt == "csv" else []
    return _cost_text(rows, columns, header, fmt), filename


def _cost_text(
    rows: Iterable[dict[str, Any]], columns: tuple[str, ...], header: list[str], fmt: str
) -> Iterator[str]:
    """Daily cost rows as CSV (under `header`) or JSON text chunks."""
    if fmt == "csv":
        return csv_stream(header, ([r[c] for c in columns] for r in rows))
    texts = [c for c in columns if c not in ("date", "amount", "currency", "quantity")]
    return _json(
        [
            ("date", json.dumps(r["date"])),
            *((d, _text(r[d])) for d in texts),
            ("amount", plain(r["amount"])),
            ("currency", json.dumps(r["currency"])),
            ("quantity", _number(r["quantity"])),
        ]
        for r in rows
    )


def _all_cost_rows(
    orgs: Sequence[Organization], query: CostQuery, full: bool
) -> Iterator[dict[str, Any]]:
    names: dict[tuple[int, str], str] = {}
    if "project_id" in query.group_by:
        names = org_project_names(orgs=orgs, ids=None)
    by_id = {org.pk: org for org in orgs}
    grouped = CostQuery(query.period, ("org_id", *query.group_by), query.filters)
    for row in cost_export_rows(orgs=orgs, query=grouped):
        project = row.get("project_id", "")
        name = names.get((row["org_id"], project), "") if project else ""
        org = by_id[row["org_id"]]
        yield {
            "organization": org.name,
            **_cost_row(row, name, full, org.provider_info.label),
        }


def all_costs_export(
    *, orgs: Sequence[Organization], query: CostQuery, fmt: str, full: bool = True
) -> tuple[Iterator[str], str]:
    """The daily cost rows of several organizations, each under its organization's name (the
    All organizations view), as CSV or JSON text chunks, and a file name."""
    period = query.period
    filename = f"costs_all_organizations_{period.start.isoformat()}_{period.end.isoformat()}.{fmt}"
    columns = COST_COLUMNS if "model" not in query.group_by else COST_COLUMNS_WITH_MODEL
    columns = (columns[0], "organization", *columns[1:])
    return _cost_text(_all_cost_rows(orgs, query, full), columns, list(columns), fmt), filename


_NAME_COLUMNS = {"project_id": "project_name", "api_key_id": "api_key_name", "user_id": "user_name"}


def _dim_columns(dims: Iterable[str]) -> list[str]:
    out: list[str] = []
    for dim in dims:
        out += [dim, _NAME_COLUMNS[dim]] if dim in _NAME_COLUMNS else [dim]
    return out


def _dim_cells(cells: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for cell in cells:
        out.append(cell["value"])
        if cell["dim"] in _NAME_COLUMNS:
            out.append(cell["label"] if cell["named"] else "")
    return out


def costs_table_export(
    screen: dict[str, Any],
    *,
    period: Any,
    fmt: str,
    full: bool,
    prefix: str = "costs",
    provider: str = "",
) -> tuple[Iterator[str], str]:
    """The Costs page's table (its rows in its order): the provider (after the organization in
    the All organizations view, whose rows each carry theirs; else `provider`, the one of the
    page's connection), a column per grouped dimension (and the name of an id), the amount, the
    share in percent as shown, the quantity by line item. A row may have its own currency (the
    All organizations view's)."""
    quantity = screen["show_quantity"]
    dims = _dim_columns(screen["dims"])
    at = 1 if dims[:1] == ["organization"] else 0  # the provider column's place
    columns = [*dims[:at], "provider", *dims[at:], "amount", "currency", "share_percent"]
    columns += ["quantity", "quantity_unit"] if quantity else []

    def cells(row: dict[str, Any], currency: str) -> list[Any]:
        found = _dim_cells(row["cells"])
        org = row.get("org")
        return [
            *found[:at],
            org.provider_info.label if org is not None else provider,
            *found[at:],
            money(row["amount"], currency, full=full),
            currency,
            Decimal(f"{float(row['share']):.1f}"),  # as the page shows it
            *([row["quantity"], row["unit"]] if quantity else []),
        ]

    rows = (cells(row, row.get("currency") or screen["currency"]) for row in screen["rows"])
    name = f"{prefix}_table_{period.start.isoformat()}_{period.end.isoformat()}.{fmt}"
    return table_export(columns, rows, fmt=fmt, filename=name)


# --- usage -----------------------------------------------------------------------------------


def usage_table_export(
    screen: dict[str, Any], *, query: UsageQuery, fmt: str
) -> tuple[Iterator[str], str]:
    """The Usage page's table: a column per grouped dimension (and names), then every metric
    over the period (a gauge, bytes stored, is its mean), named like the API's fields."""
    columns = [*_dim_columns(screen["dims"]), *screen["metrics"]]
    rows = (
        [*_dim_cells(row["cells"]), *(_metric(v["value"]) for v in row["values"])]
        for row in screen["rows"]
    )
    start, end = query.period.start.isoformat(), query.period.end.isoformat()
    name = f"usage_table_{query.family.slug}_{start}_{end}.{fmt}"
    return table_export(columns, rows, fmt=fmt, filename=name)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metric(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value, 3)
    return value


def usage_export(*, org: Organization, query: UsageQuery, fmt: str) -> tuple[Iterator[str], str]:
    """A family's usage per bucket as CSV or JSON text chunks, and a file name.

    Columns: bucket_start (ISO 8601, UTC), then every dimension and every metric of the family,
    named like the API's fields.
    """
    family, period = query.family, query.period
    filename = (
        f"usage_{family.slug}_{query.width}_{period.start.isoformat()}_{period.end.isoformat()}"
        f".{fmt}"
    )
    grouped = query.group_by
    rows = usage_export_rows(org=org, query=query)

    def dims_of(group: tuple[str, ...]) -> dict[str, str]:
        values = dict(zip(grouped, group, strict=False))
        return {d: values.get(d, "") for d in family.dimensions}

    if fmt == "csv":
        return csv_stream(
            _header(
                org, family.endpoint, ("bucket_start", *family.dimensions, *family.metric_names)
            ),
            (
                [
                    _iso(bucket),
                    *dims_of(group).values(),
                    *(_metric(values.get(m)) for m in family.metric_names),
                ]
                for bucket, group, values in rows
            ),
        ), filename

    def json_dim(name: str, value: str) -> str:
        if name == "batch" and value:
            return "true" if value == "true" else "false"
        return _text(value)

    return _json(
        [
            ("bucket_start", json.dumps(_iso(bucket))),
            *((d, json_dim(d, v)) for d, v in dims_of(group).items()),
            *((m, _number(_metric(values.get(m)))) for m in family.metric_names),
        ]
        for bucket, group, values in rows
    ), filename
