"""Pure Plotly figure builders for the usage and cost pages: plain data in, a `go.Figure` out.

No Django here, so tests assert on `fig.data`. Colours and fonts follow the page's theme in
static/js/charts.js. A trace's `meta.drill` is the URL that narrows the page to that series; a
point's `customdata` is a link for that bucket (the audit log of that day, on the Costs chart).
A series' name is escaped as it enters the figure (`plotly_text`): names come from the API.
Traces and layouts are written as Plotly JSON and made a Figure by `orgadmin.charts.figure`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from orgadmin.charts import NEUTRAL_GREY, SERIES_COLORS, figure, fold_point, plotly_text

# Series colours, in the order series get them: each reads on the light and on the dark card
# (3:1 at least, WCAG's contrast for graphics) and is far from every other one and from the
# grey of "Other" (tests/dashboard/test_charts.py computes both). Shared with orgadmin/charts.py.
PALETTE = SERIES_COLORS
OTHER_COLOR = NEUTRAL_GREY
MAX_SERIES = 10


@dataclass
class Series:
    name: str
    values: list[float]
    drill: str = ""  # URL narrowing the page to this series ("" for none, e.g. "Other")
    links: list[str] = field(default_factory=list)  # one per x, e.g. the audit log of that day


def top_series(series: Sequence[Series], limit: int = MAX_SERIES) -> list[Series]:
    """The `limit` biggest series, the rest summed into one "Other" series; more of them, when
    "Other" would be as big as the biggest: it is never the chart's biggest colour."""
    ranked = sorted(series, key=lambda s: (-sum(s.values), s.name))
    if len(ranked) <= limit:
        return ranked
    keep = fold_point([sum(s.values) for s in ranked], limit)
    if keep == len(ranked):
        return ranked
    kept, rest = ranked[:keep], ranked[keep:]
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
        # A legend click hides or shows its series (Plotly's default); a bar click drills down.
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "xaxis": {"type": x_type, "fixedrange": True},
        "yaxis": {"title": {"text": y_title}, "tickformat": tickformat, "fixedrange": True},
    }
    for key, value in more.items():
        layout[key] = {**layout.get(key, {}), **value} if isinstance(value, dict) else value
    return layout


def _bars(
    x: list[str],
    series: Sequence[Series],
    *,
    hover: str,
    total: Callable[[float], str],
    per: str = "Day",
    colors: Sequence[str] = PALETTE,
) -> list[dict]:
    """Stacked bars; hovering a segment shows it and the whole bar's total (`total` writes an
    amount as the hover label does, `per` names the bucket: "Day total", "Hour total")."""
    sums = [sum(column) for column in zip(*(s.values for s in series), strict=False)]
    totals = [total(v) for v in sums]
    traces = []
    for i, s in enumerate(series):
        other = not s.drill and s.name.startswith("Other")
        traces.append(
            {
                "customdata": s.links or None,  # None: unset (the Figure leaves it out)
                "hovertemplate": f"%{{x}}<br>%{{fullData.name}}: {hover}"
                f"<br>{per} total: %{{text}}<extra></extra>",
                "marker": {"color": OTHER_COLOR if other else colors[i % len(colors)]},
                "meta": {"drill": s.drill} if s.drill else None,
                "name": plotly_text(s.name),  # a project's or key's name: text, not markup
                "text": totals,  # the bar's total, for the hover label only
                "textposition": "none",
                "x": x,
                "y": list(s.values),
                "type": "bar",
            }
        )
    return traces


_PER = {"1d": "Day", "1h": "Hour"}


def _count(value: float) -> str:
    """A usage amount as the hover label writes it (`%{y:,}`): 1,234 or 1,234.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def cost_by_day_figure(
    *, days: Sequence[dt.date], series: Sequence[Series], currency: str = "usd"
) -> go.Figure:
    """Daily cost bars stacked by line item, project or key (the top ones, then "Other")."""
    symbol = "$" if currency.lower() == "usd" else ""
    unit = "" if symbol else f" {currency.upper()}"
    x = [d.isoformat() for d in days]
    return figure(
        data=_bars(
            x,
            top_series(series),
            hover=f"{symbol}%{{y:,.2f}}{unit}",
            total=lambda v: f"{symbol}{v:,.2f}{unit}",
        ),
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
        data=_bars(x, top_series(series), hover="%{y:,}", total=_count, per=_PER[width]),
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
    colors = (PALETTE[0], PALETTE[1], OTHER_COLOR)
    return figure(
        data=_bars(x, list(parts), hover="%{y:,}", total=_count, per=_PER[width], colors=colors),
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
