"""The pure figure builders, asserted on fig.data."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import plotly.graph_objects as go
from django.template import Context, Template

from dashboard.charts import (
    OTHER_COLOR,
    Series,
    cost_by_day_figure,
    sparkline_figure,
    split_figure,
    top_series,
    usage_over_time_figure,
)

DAYS = [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]


def test_it_stacks_daily_costs_by_series_with_drilldown_and_day_links():
    fig = cost_by_day_figure(
        days=DAYS,
        series=[
            Series("Search", [1.5, 2.0], drill="/costs/?project_id=p1", links=["/a1", "/a2"]),
            Series("Chat", [0.5, 0.25], drill="/costs/?project_id=p2", links=["/a1", "/a2"]),
        ],
    )

    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Search", "Chat"]
    assert list(fig.data[0].x) == ["2025-03-01", "2025-03-02"]
    assert list(fig.data[0].y) == [1.5, 2.0]
    assert fig.data[1].meta == {"drill": "/costs/?project_id=p2"}
    assert list(fig.data[0].customdata) == ["/a1", "/a2"]
    assert "$" in fig.data[0].hovertemplate


def test_it_keeps_the_biggest_series_and_sums_the_rest_into_other():
    series = [Series(f"s{i}", [float(i), 1.0], drill=f"/d{i}") for i in range(15)]

    kept = top_series(series, limit=5)

    assert [s.name for s in kept] == ["s14", "s13", "s12", "s11", "Other (11)"]
    assert kept[-1].values == [sum(range(11)), 11.0]
    fig = cost_by_day_figure(days=DAYS, series=series)
    assert len(fig.data) == 10
    assert fig.data[-1].marker.color == OTHER_COLOR
    assert fig.data[-1].meta is None  # "Other" can't be drilled into


def test_it_draws_usage_per_local_hour_or_day():
    buckets = [dt.datetime(2025, 3, 1, h, tzinfo=dt.UTC) for h in (0, 1)]

    hourly = usage_over_time_figure(
        buckets=buckets, series=[Series("gpt-5", [10, 20])], metric_label="Input tokens", width="1h"
    )
    daily = usage_over_time_figure(
        buckets=buckets[:1], series=[Series("gpt-5", [30])], metric_label="Input tokens", width="1d"
    )

    assert list(hourly.data[0].x) == ["2025-03-01 00:00", "2025-03-01 01:00"]
    assert list(daily.data[0].x) == ["2025-03-01"]
    assert hourly.layout.yaxis.title.text == "Input tokens"


def test_it_splits_batch_from_non_batch_in_two_colours():
    buckets = [dt.datetime(2025, 3, 1, tzinfo=dt.UTC)]

    fig = split_figure(
        buckets=buckets,
        parts=[Series("Non-batch", [7]), Series("Batch", [3])],
        title="Batch vs non-batch",
        y_title="Requests",
        width="1d",
    )

    assert [(t.name, list(t.y)) for t in fig.data] == [("Non-batch", [7]), ("Batch", [3])]
    assert fig.data[0].marker.color != fig.data[1].marker.color


def test_it_draws_a_sparkline_from_decimals():
    fig = sparkline_figure(days=DAYS, values=[Decimal("1.5"), 2])

    assert list(fig.data[0].y) == [1.5, 2.0]
    assert fig.layout.xaxis.visible is False


def _all_figures():
    hours = [dt.datetime(2025, 3, 1, h, tzinfo=dt.UTC) for h in (0, 1)]
    series = [Series("Search", [1.5, 2.0], drill="/costs/?project_id=p1", links=["/a1", "/a2"])]
    yield cost_by_day_figure(days=DAYS, series=series)
    yield usage_over_time_figure(buckets=hours, series=series, metric_label="Tokens", width="1h")
    yield split_figure(buckets=hours, parts=series, title="Split", y_title="Tokens", width="1d")
    yield sparkline_figure(days=DAYS, values=[Decimal("1.5"), 2])


def test_it_builds_figures_that_plotly_validates():
    for fig in _all_figures():
        assert isinstance(fig, go.Figure)
        go.Figure(fig.to_plotly_json())  # validated: raises on any property Plotly doesn't know


def test_it_hands_the_browser_compact_json_with_amounts_and_links_as_built():
    links = ["/audit-log/?start=2025-03-01&end=2025-03-02", "/audit-log/?start=2025-03-02"]
    fig = cost_by_day_figure(
        days=DAYS, series=[Series("R&D", [1.1, 1e-12], drill="/costs/?project_id=p1", links=links)]
    )

    html = Template("{% load ui %}{% plotly_chart fig 'c1' %}").render(Context({"fig": fig}))

    assert 'aria-label="Daily cost"' in html
    payload = re.search(r'<template id="c1-data">(.*)</template>', html, re.S).group(1)
    [trace] = json.loads(payload)["data"]
    assert trace["y"] == [1.1, 1e-12]
    assert trace["customdata"] == links
    assert trace["meta"] == {"drill": "/costs/?project_id=p1"}
    assert json.loads(payload)["layout"]["template"]["layout"]  # Plotly's default template
    assert "&" not in payload  # escaped for the <template> (\u0026), as json_script does
    assert "\\u002f" not in payload  # a URL as it is, not six bytes a slash
    assert ", " not in payload  # compact
