"""The pure figure builders, asserted on fig.data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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
