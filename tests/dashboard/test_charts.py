"""The pure figure builders, asserted on fig.data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from decimal import Decimal

import plotly.graph_objects as go
from django.template import Context, Template

from dashboard.charts import (
    OTHER_COLOR,
    PALETTE,
    Series,
    cost_by_day_figure,
    sparkline_figure,
    split_figure,
    top_series,
    usage_over_time_figure,
)
from orgadmin.charts import (
    _SPARE_COLORS,
    CATEGORY_COLORS,
    NEUTRAL_GREY,
    OTHER,
    audit_events_figure,
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
    # A long tail (issue 16: "Other" smaller than the biggest series, so it folds at `limit`).
    series = [Series(f"s{i}", [float(2**i), 1.0], drill=f"/d{i}") for i in range(15)]

    kept = top_series(series, limit=5)

    assert [s.name for s in kept] == ["s14", "s13", "s12", "s11", "Other (11)"]
    assert kept[-1].values == [sum(2**i for i in range(11)), 11.0]
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


# --- Issue 16, item 11: charts behave as people expect ---------------------------------------


def test_other_is_never_the_biggest_colour():
    # Twenty equal projects: folding at 5 would make "Other" sixteen times the biggest.
    series = [Series(f"p{i:02}", [1.0, 1.0], drill=f"/d{i}") for i in range(20)]
    assert top_series(series, limit=5) == sorted(series, key=lambda s: s.name)  # all, no Other

    # A tail that folds: "Other" stays smaller than the biggest named series.
    tail = [Series("big", [50.0, 50.0]), *(Series(f"t{i:02}", [3.0, 3.0]) for i in range(40))]
    kept = top_series(tail, limit=5)
    other = kept[-1]
    assert other.name.startswith("Other")
    assert sum(other.values) < max(sum(s.values) for s in kept[:-1])
    assert len(kept) > 5  # it folded less than `limit` asked
    fig = cost_by_day_figure(days=DAYS, series=tail)
    assert fig.data[-1].marker.color == OTHER_COLOR
    biggest = max(fig.data, key=lambda t: sum(t.y))
    assert biggest.marker.color != OTHER_COLOR


def test_the_audit_chart_keeps_other_smaller_than_its_busiest_category():
    start = dt.date(2025, 3, 1)
    counts = {(start, "api_key"): 30}
    counts.update({(start, c): 5 for c in ("user", "invite", "project", "role", "group")})
    counts.update({(start, c): 4 for c in ("rate_limit", "certificate", "organization", "login")})

    fig = audit_events_figure(counts, start=start, end=start + dt.timedelta(days=1))

    totals = {t.name: sum(t.y) for t in fig.data}
    named = {name: n for name, n in totals.items() if name != "Other"}
    assert totals.get("Other", 0) < max(named.values())
    assert sum(totals.values()) == 30 + 25 + 16
    other = [t for t in fig.data if t.name == "Other"]
    assert all(t.marker.color == NEUTRAL_GREY for t in other)


def test_a_legend_click_is_plotlys_own_and_hover_shows_the_days_total():
    fig = cost_by_day_figure(
        days=DAYS,
        series=[
            Series("Search", [1.5, 2.0], drill="/costs/?project_id=p1", links=["/a1", "/a2"]),
            Series("Chat", [0.5, 0.25], drill="/costs/?project_id=p2", links=["/a1", "/a2"]),
        ],
    )

    assert fig.layout.legend.itemclick is None  # Plotly's default: toggle the series
    for trace in fig.data:
        assert list(trace.text) == ["$2.00", "$2.25"]  # the day's total, on every segment
        assert trace.textposition == "none"  # for the hover label, not drawn on the bar
        assert "Day total: %{text}" in trace.hovertemplate
        assert "%{fullData.name}: $%{y:,.2f}" in trace.hovertemplate  # and the segment
    hourly = usage_over_time_figure(
        buckets=[dt.datetime(2025, 3, 1, h, tzinfo=dt.UTC) for h in (0, 1)],
        series=[Series("gpt-5", [1200, 20]), Series("gpt-4.1", [34, 0.5])],
        metric_label="Input tokens",
        width="1h",
    )
    assert list(hourly.data[0].text) == ["1,234", "20.5"]
    assert "Hour total: %{text}" in hourly.data[0].hovertemplate
    audit = audit_events_figure(
        {(DAYS[0], "user"): 2, (DAYS[0], "api_key"): 1500, (DAYS[1], "user"): 1},
        start=DAYS[0],
        end=DAYS[0] + dt.timedelta(days=2),
    )
    assert sorted(list(t.text) for t in audit.data) == [["1,502"], ["1,502", "1"]]
    assert all("Day total: %{text}" in t.hovertemplate for t in audit.data)


# Colours: WCAG's relative luminance and contrast; distance in CIE L*a*b* (ΔE 1976).
LIGHT_CARD, DARK_CARD, DARK_PAGE = "#ffffff", "#181c25", "#13171f"
MIN_CONTRAST = 3.0  # WCAG 1.4.11, graphical objects
MIN_DISTANCE = 20.0  # ΔE76: two colours side by side in a stack read as two


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(color: str) -> list[float]:
    return [_linear(int(color[i : i + 2], 16)) for i in (1, 3, 5)]


def _luminance(color: str) -> float:
    r, g, b = _rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _lab(color: str) -> tuple[float, float, float]:
    r, g, b = _rgb(color)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_series_and_category_colours_read_in_both_themes_and_apart():
    palettes = {
        "series": [*PALETTE, OTHER_COLOR],
        "categories": list(CATEGORY_COLORS.values()),
        "split": [PALETTE[0], PALETTE[1], OTHER_COLOR],
    }
    for name, colors in palettes.items():
        for color in colors:
            for background in (LIGHT_CARD, DARK_CARD, DARK_PAGE):
                assert _contrast(color, background) >= MIN_CONTRAST, (name, color, background)
        for a, b in itertools.combinations(colors, 2):
            assert math.dist(_lab(a), _lab(b)) >= MIN_DISTANCE, (name, a, b)
    assert CATEGORY_COLORS[OTHER] == OTHER_COLOR == NEUTRAL_GREY
    for color in _SPARE_COLORS:
        assert _contrast(color, LIGHT_CARD) >= MIN_CONTRAST
        assert _contrast(color, DARK_CARD) >= MIN_CONTRAST
