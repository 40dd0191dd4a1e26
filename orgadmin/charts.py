"""Pure Plotly figure builders: data in, a `plotly.graph_objects.Figure` out, no Django.

The audit explorer's chart, and what every builder shares (dashboard/charts.py too): `figure`
makes the Figure, `plotly_text` puts a name from the API into it as text.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping

import plotly.graph_objects as go

from orgadmin.audit import CATEGORIES, category_label

OTHER = "*other"  # the categories past MAX_SERIES, together

# Colours for categories and series: each reads on the light card (#fff) and the dark one
# (#181c25) at 3:1 at least (WCAG's contrast for graphics), and each is far from every other and
# from the neutral grey of "Other" (tests/dashboard/test_charts.py computes both). In the order
# series get them: the first ones are the most distinct.
SERIES_COLORS = (
    "#2563eb",
    "#ea580c",
    "#65a30d",
    "#ec4899",
    "#8b5cf6",
    "#059669",
    "#a0522d",
    "#e11d48",
    "#0284c7",
    "#0f766e",
    "#16a34a",
    "#0e7490",
    "#d946ef",
)
NEUTRAL_GREY = "#8b919c"  # "Other", everywhere
# One colour per category, the same on every page and in both themes.
CATEGORY_COLORS = {
    "login": "#2563eb",
    "api_key": "#ea580c",
    "user": "#65a30d",
    "invite": "#ec4899",
    "project": "#d946ef",
    "rate_limit": "#059669",
    "service_account": "#a0522d",
    "certificate": "#e11d48",
    "role": "#0284c7",
    "group": "#0f766e",
    "organization": "#16a34a",
    "ip_allowlist": "#0e7490",
    "tenant": "#8b5cf6",
    OTHER: NEUTRAL_GREY,
}
# Unlisted categories take these in turn (they read in both themes too).
_SPARE_COLORS = ["#a16207", "#15803d", "#b45309", "#c026d3", "#db2777"]
# Longer ranges are drawn by week so the bars stay readable.
MAX_DAILY_BARS = 400
# The busiest categories get their own colour; the rest stack together as "Other".
MAX_SERIES = 8
DAY_MS = 86_400_000


def plotly_text(text: str) -> str:
    """`text` as Plotly shows it, letter for letter: Plotly reads `<a href>`, `<b>`, `<br>` and
    entities in trace names, titles and hover labels, so a name from the API (a project called
    `<a href=...>`) would become markup. Escaped, Plotly draws `&lt;` as `<`: the name as typed.

    Every name that enters a figure goes through here once; put it in `hovertemplate` as
    `%{fullData.name}`, not pasted in, or a `%{y}` in a name would be filled in too.
    """
    return html.escape(text, quote=False)


def category_color(category: str, index: int = 0) -> str:
    return CATEGORY_COLORS.get(category) or _SPARE_COLORS[index % len(_SPARE_COLORS)]


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from traces and a layout written as Plotly JSON: every builder returns one.

    Not validated property by property, which costs more than a page's SQL (~0.1 s for a year of
    bars); the tests validate what the builders return. Its template is empty, `{}`: Plotly's
    default template is the same for every chart, and a copy of it in each figure (made when
    built, and again when serialized) would be most of what a small figure costs. The chart tag
    (orgadmin/templatetags/ui.py) writes the default template into the figure's JSON.
    """
    return go.Figure(data=data, layout={**layout, "template": {}}, _validate=False)


def _audit_counts(
    counts: Mapping[tuple[dt.date, str], int], *, start: dt.date, end: dt.date, width: int
) -> dict[str, list[int]]:
    """{category: events per bucket} in [start, end); the quietest categories past MAX_SERIES
    summed as OTHER."""
    size = len(range(0, max((end - start).days, 0), width))
    by_category: dict[str, list[int]] = {}
    for (day, category), n in counts.items():
        if not start <= day < end:
            continue
        series = by_category.setdefault(category, [0] * size)
        series[(day - start).days // width] += n
    if len(by_category) > MAX_SERIES:
        busiest = sorted(by_category, key=lambda c: (-sum(by_category[c]), c))
        keep = fold_point([sum(by_category[c]) for c in busiest], MAX_SERIES)
        if keep < len(busiest):
            other = [0] * size
            for category in busiest[keep:]:
                other = [a + b for a, b in zip(other, by_category.pop(category), strict=True)]
            by_category[OTHER] = other
    return by_category


def fold_point(totals: list[int] | list[float], limit: int) -> int:
    """How many of `totals` (biggest first) keep their own colour: `limit - 1`, or more until
    the rest summed is smaller than the biggest ("Other" is never the biggest colour); all of
    them rather than an "Other" of one."""
    keep = limit - 1
    while keep < len(totals) and sum(totals[keep:]) >= totals[0]:
        keep += 1
    return len(totals) if keep >= len(totals) - 1 else keep


def audit_events_figure(
    counts: Mapping[tuple[dt.date, str], int], *, start: dt.date, end: dt.date
) -> go.Figure:
    """Events per day (per week past MAX_DAILY_BARS days) in [start, end), stacked by category.

    Each bar carries the end of its period as customdata, so a click can open that window.
    """
    width = 1 if (end - start).days <= MAX_DAILY_BARS else 7
    buckets = [start + dt.timedelta(days=i) for i in range(0, max((end - start).days, 0), width)]
    by_category = _audit_counts(counts, start=start, end=end, width=width)
    known = [*CATEGORIES, OTHER]
    # The usual order first (so colours and legend stay put), unknown categories after.
    order = sorted(by_category, key=lambda c: (known.index(c) if c in known else len(known), c))
    x = [b.isoformat() for b in buckets]
    ends = [min(b + dt.timedelta(days=width), end).isoformat() for b in buckets]
    sums = [sum(column) for column in zip(*by_category.values(), strict=True)]
    per = "Day" if width == 1 else "Week"
    traces = []
    for index, category in enumerate(order):
        # Only the periods that have events: a year of a rare category stays small.
        points = [i for i, n in enumerate(by_category[category]) if n]
        traces.append(
            {
                "type": "bar",
                "x": [x[i] for i in points],
                "y": [by_category[category][i] for i in points],
                "customdata": [ends[i] for i in points],
                # An unknown category is the first word of an event type the API sent: text.
                "name": plotly_text("Other" if category == OTHER else category_label(category)),
                "marker": {"color": category_color(category, index)},
                # Explicit widths: plotly sizes a lone bar by its neighbours, of which it has none.
                "width": width * DAY_MS * 0.8,
                # The bar's total beside the segment (text: for the hover label only).
                "text": [f"{sums[i]:,}" for i in points],
                "textposition": "none",
                "hovertemplate": "%{x|%b %-d, %Y}<br>%{fullData.name}: %{y:,}"
                f"<br>{per} total: %{{text}}<extra></extra>",
            }
        )
    tallest = max(sums, default=0)
    return figure(traces, _audit_layout(start, end, width, tallest, legend=bool(order)))


def _audit_layout(start: dt.date, end: dt.date, width: int, tallest: int, *, legend: bool) -> dict:
    return {
        "title": {
            "text": f"Events per {'day' if width == 1 else 'week'}",
            "x": 0,
            "font": {"size": 14},
        },
        "barmode": "stack",
        "bargap": 0.15,
        "height": 260,
        "margin": {"l": 40, "r": 10, "t": 36, "b": 30},
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        # Bars sit on their day's midnight: half a period either side shows the first and last.
        "xaxis": {"type": "date", "range": [_shift(start, -width / 2), _shift(end, -width / 2)]},
        # Whole numbers only: a quiet week would otherwise get ticks at 0.5.
        "yaxis": {"rangemode": "tozero", "tickformat": ",d", "dtick": 1 if tallest <= 5 else None},
        "showlegend": legend,
    }


def _shift(day: dt.date, days: float) -> str:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(days=days)
    return moment.isoformat(sep=" ")
