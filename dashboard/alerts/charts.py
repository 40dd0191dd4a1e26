"""The anomaly chart of an alert's page: pure, plain data in, a Plotly `go.Figure` out (the style
of dashboard/charts.py; the `{% plotly_chart %}` tag renders it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go

from orgadmin.charts import NEUTRAL_GREY, SERIES_COLORS, figure

EPISODE_SHADE = "rgba(220,38,38,0.12)"  # reads on the light and the dark card


def anomaly_figure(
    *,
    days: Sequence[tuple[dt.date, Decimal]],
    expected: Sequence[tuple[dt.date, Decimal]],
    start: dt.date,
    end: dt.date,
    title: str = "Daily cost around the anomaly",
) -> go.Figure:
    """The group's daily cost (a line), what the detector expected on the episode's days
    (dashed), and the episode's days shaded."""
    hover = "$%{y:,.2f}"  # "x unified": the day heads the hover box, each line names itself
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Cost",
            "x": [d.isoformat() for d, _ in days],
            "y": [float(v) for _, v in days],
            "line": {"color": SERIES_COLORS[0], "width": 2},
            "marker": {"size": 4},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Expected",
            "x": [d.isoformat() for d, _ in expected],
            "y": [float(v) for _, v in expected],
            "line": {"color": NEUTRAL_GREY, "width": 2, "dash": "dash"},
            "marker": {"size": 5, "symbol": "diamond"},
            "hovertemplate": hover,
        },
    ]
    shade = {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": (start - dt.timedelta(hours=12)).isoformat(),
        "x1": (end + dt.timedelta(hours=12)).isoformat(),
        "y0": 0,
        "y1": 1,
        "fillcolor": EPISODE_SHADE,
        "line": {"width": 0},
        "layer": "below",
    }
    layout = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "height": 280,
        "hovermode": "x unified",
        "margin": {"l": 64, "r": 16, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.2, "x": 0},
        "shapes": [shade],
        "xaxis": {"type": "date", "fixedrange": True, "tickformat": "%b %-d"},
        "yaxis": {"title": {"text": "Cost (USD)"}, "tickformat": "$,.2f", "fixedrange": True},
    }
    return figure(data=data, layout=layout)
