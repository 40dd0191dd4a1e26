"""Streamed CSV and JSON exports of costs and usage, from the same queries as the pages.

Rows come from the database in chunks and leave as text as they are made, so an export of any
size runs in constant memory. An ungrouped dimension is empty (null in JSON); money is a plain
decimal, never a float. CSV goes through orgadmin.csv_export, the writer every export shares.

A dimension the API refuses to group by (see ApiCapability) is named so in the CSV's header,
"api_key_id (not offered by this organization's API)", instead of passing for an empty one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from dashboard.families import COSTS_ENDPOINT
from dashboard.selectors import (
    CostQuery,
    UsageQuery,
    cost_export_rows,
    cost_project_ids,
    names_for,
    to_amount,
    to_quantity,
    usage_export_rows,
)
from orgadmin.csv_export import csv_stream, plain
from orgadmin.models import Organization
from orgadmin.selectors import refused_options

COST_COLUMNS = (
    "date",
    "project_id",
    "project_name",
    "line_item",
    "api_key_id",
    "amount",
    "currency",
    "quantity",
)


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


def _text(value: str) -> str:
    return json.dumps(value) if value else "null"


def _number(value: Any) -> str:
    return plain(value) if value is not None else "null"


# --- costs -----------------------------------------------------------------------------------


def _cost_rows(org: Organization, query: CostQuery) -> Iterator[dict[str, Any]]:
    names: dict[str, str] = {}
    if "project_id" in query.group_by:
        names = names_for(org=org, ids=cost_project_ids(org=org, query=query))
    for row in cost_export_rows(org=org, query=query):
        project = row.get("project_id", "")
        yield {
            "date": row["day"].isoformat(),
            "project_id": project,
            "project_name": names.get(project, "") if project else "",
            "line_item": row.get("line_item", ""),
            "api_key_id": row.get("api_key_id", ""),
            "amount": to_amount(row["amount_units"]),
            "currency": row["currency"],
            "quantity": to_quantity(row.get("quantity_units")),
        }


def costs_export(*, org: Organization, query: CostQuery, fmt: str) -> tuple[Iterator[str], str]:
    """The costs of a period as CSV or JSON text chunks, and a file name."""
    period = query.period
    filename = f"costs_{period.start.isoformat()}_{period.end.isoformat()}.{fmt}"
    rows = _cost_rows(org, query)
    if fmt == "csv":
        header = _header(org, COSTS_ENDPOINT, COST_COLUMNS)
        return csv_stream(header, ([r[c] for c in COST_COLUMNS] for r in rows)), filename
    return _json(
        [
            ("date", json.dumps(r["date"])),
            *((d, _text(r[d])) for d in ("project_id", "project_name", "line_item", "api_key_id")),
            ("amount", plain(r["amount"])),
            ("currency", json.dumps(r["currency"])),
            ("quantity", _number(r["quantity"])),
        ]
        for r in rows
    ), filename


# --- usage -----------------------------------------------------------------------------------


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
