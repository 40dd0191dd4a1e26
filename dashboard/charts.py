"""Pure Plotly figure builders for the usage and cost pages: plain data in, a `go.Figure` out.

No Django here, so tests assert on `fig.data`. Colours and fonts follow the page's theme in
static/js/charts.js. A trace's `meta.drill` is the URL that narrows the page to that series; a
point's `customdata` is a link for that bucket (the audit log of that day, on the Costs chart).
A series' name is escaped as it enters the figure (`plotly_text`): names come from the API.
Traces and layouts are written as Plotly JSON and made a Figure by `orgadmin.charts.figure`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from orgadmin.charts import figure, plotly_text

# A palette that reads in light and dark themes; "Other" is always grey.
PALETTE = (
    "#2563eb",
    "#16a34a",
    "#f59e0b",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#4f46e5",
    "#0d9488",
    "#a16207",
)
OTHER_COLOR = "#94a3b8"
MAX_SERIES = 10


@dataclass
class Series:
    name: str
    values: list[float]
    drill: str = ""  # URL narrowing the page to this series ("" for none, e.g. "Other")
    links: list[str] = field(default_factory=list)  # one per x, e.g. the audit log of that day


def top_series(series: Sequence[Series], limit: int = MAX_SERIES) -> list[Series]:
    """The `limit` biggest series, the rest summed into one "Other" series."""
    ranked = sorted(series, key=lambda s: (-sum(s.values), s.name))
    if len(ranked) <= limit:
        return ranked
    kept, rest = ranked[: limit - 1], ranked[limit - 1 :]
    other = [sum(vals) for vals in zip(*(s.values for s in rest), strict=False)]
    return [*kept, Series(name=f"Other ({len(rest)})", values=other)]


def _layout(
    *, title: str, y_title: str, tickformat: str = "", x_type: str = "date", **more: Any
) -> dict:
    layout = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "barmode": "stack",
        "bargap": 0.15,
        "hovermode": "closest",
        "margin": {"l": 64, "r": 16, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "itemclick": False},
        "xaxis": {"type": x_type, "fixedrange": True},
        "yaxis": {"title": {"text": y_title}, "tickformat": tickformat, "fixedrange": True},
    }
    for key, value in more.items():
        layout[key] = {**layout.get(key, {}), **value} if isinstance(value, dict) else value
    return layout


def _bars(
    x: list[str], series: Sequence[Series], *, hover: str, colors: Sequence[str] = PALETTE
) -> list[dict]:
    traces = []
    for i, s in enumerate(series):
        other = not s.drill and s.name.startswith("Other")
        traces.append(
            {
                "customdata": s.links or None,  # None: unset (the Figure leaves it out)
                "hovertemplate": f"%{{x}}<br>%{{fullData.name}}: {hover}<extra></extra>",
                "marker": {"color": OTHER_COLOR if other else colors[i % len(colors)]},
                "meta": {"drill": s.drill} if s.drill else None,
                "name": plotly_text(s.name),  # a project's or key's name: text, not markup
                "x": x,
                "y": list(s.values),
                "type": "bar",
            }
        )
    return traces


def cost_by_day_figure(
    *, days: Sequence[dt.date], series: Sequence[Series], currency: str = "usd"
) -> go.Figure:
    """Daily cost bars stacked by line item, project or key (the top ones, then "Other")."""
    symbol = "$" if currency.lower() == "usd" else ""
    unit = "" if symbol else f" {currency.upper()}"
    x = [d.isoformat() for d in days]
    return figure(
        data=_bars(x, top_series(series), hover=f"{symbol}%{{y:,.2f}}{unit}"),
        layout=_layout(
            title="Daily cost",
            y_title=f"Cost ({currency.upper()})",
            tickformat=f"{symbol},.2f",
            xaxis={"tickformat": "%b %-d"},
        ),
    )


def usage_over_time_figure(
    *,
    buckets: Sequence[dt.datetime],
    series: Sequence[Series],
    metric_label: str,
    width: str,
    title: str = "",
) -> go.Figure:
    """One metric per bucket (local day or hour), stacked by the grouped dimension."""
    # Local wall-clock times: plotly draws dates without a zone.
    x = [b.strftime("%Y-%m-%d" if width == "1d" else "%Y-%m-%d %H:%M") for b in buckets]
    more = {"xaxis": {"tickformat": "%b %-d"}} if width == "1d" else {}
    return figure(
        data=_bars(x, top_series(series), hover="%{y:,}"),
        layout=_layout(title=title or metric_label, y_title=metric_label, tickformat="~s", **more),
    )


def split_figure(
    *,
    buckets: Sequence[dt.datetime],
    parts: Sequence[Series],
    title: str,
    y_title: str,
    width: str,
) -> go.Figure:
    """Two or three complementary series stacked (batch vs non-batch, cached vs uncached)."""
    x = [b.strftime("%Y-%m-%d" if width == "1d" else "%Y-%m-%d %H:%M") for b in buckets]
    colors = ("#2563eb", "#f59e0b", "#94a3b8")
    return figure(
        data=_bars(x, list(parts), hover="%{y:,}", colors=colors),
        layout=_layout(
            title=title, y_title=y_title, tickformat="~s", height=260, margin={"t": 36, "b": 30}
        ),
    )


def sparkline_figure(*, days: Sequence[dt.date], values: Sequence[float | Decimal]) -> go.Figure:
    """A tiny area line with no axes, for a card."""
    return figure(
        data=[
            {
                "fill": "tozeroy",
                "fillcolor": "rgba(37,99,235,0.15)",
                "hoverinfo": "skip",
                "line": {"width": 1.5, "color": "#2563eb"},
                "mode": "lines",
                "x": [d.isoformat() for d in days],
                "y": [float(v) for v in values],
                "type": "scatter",
            }
        ],
        layout={
            "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
            "height": 48,
            "showlegend": False,
            "xaxis": {"visible": False, "fixedrange": True},
            "yaxis": {"visible": False, "fixedrange": True, "rangemode": "tozero"},
        },
    )
