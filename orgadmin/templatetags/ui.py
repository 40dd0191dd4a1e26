"""Small template helpers shared by every page."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import iso_to_plotly_time_string
from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from plotly.utils import PlotlyJSONEncoder


def _json_escaped(text: str) -> str:
    """The same escapes as Django's json_script (the JSON can't close its tag), as three C-speed
    passes: str.translate with a mapping looks up every character of a figure's JSON."""
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


@cache
def _default_template() -> dict:
    """Plotly's default template as JSON (read only: every figure's JSON shares it)."""
    return pio.templates[pio.templates.default].to_plotly_json()


class _FigureEncoder(PlotlyJSONEncoder):
    """Plotly's encoder (NaN and infinities as null), with the types our figures hold first:
    Plotly's own tries a chain of encoders, each failing with an exception, before a Decimal."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj)
        if isinstance(obj, dt.datetime):
            return obj.isoformat()
        if isinstance(obj, dt.date):
            return iso_to_plotly_time_string(obj.isoformat())
        return super().default(obj)


def _figure_json(figure: go.Figure) -> str:
    """The figure as the browser draws it: as built, with Plotly's default template when its
    own is empty (as orgadmin.charts.figure leaves it); compact, and a `/` left as it is.

    Read from the figure's own trace and layout dicts, not `to_plotly_json()`, which deep-copies
    every value and walks them for NumPy arrays (our figures hold lists): that was most of the
    time a page with a large chart took to render."""
    layout = dict(figure._layout)  # the figure's layout is left as it is
    if not layout.get("template"):
        layout["template"] = _default_template()
    spec = {"data": figure._data, "layout": layout}
    return json.dumps(spec, cls=_FigureEncoder, separators=(",", ":"))


register = template.Library()


@register.simple_tag
def plotly_chart(
    figure: go.Figure, chart_id: str, css_class: str = "chart", drilldown: str = ""
) -> str:
    """Place a Plotly figure: a div, and its JSON in an inert <template>.

    static/js/charts.js draws it (no inline script, so the CSP holds). A <template>, not a
    <script type="application/json">: htmx (allowScriptTags=false) strips every script tag from
    swapped fragments, which would leave a chart in a fragment without its data. `drilldown` is a
    URL template for clicks: `{x}`, `{name}` and `{customdata}` are filled from the clicked point.
    """
    text = _figure_json(figure)
    return format_html(
        '<div class="{}" id="{}" data-plotly="{}-data" data-drilldown="{}" role="figure" '
        'aria-label="{}"></div><template id="{}-data">{}</template>',
        css_class,
        chart_id,
        chart_id,
        drilldown,
        figure.layout.title.text or "Chart",
        chart_id,
        mark_safe(_json_escaped(text)),  # noqa: S308
    )


# --- Date ranges as people say them (issue 16, item 8) --------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(day: dt.date, *, year: bool) -> str:
    text = f"{_MONTHS[day.month - 1]} {day.day}"
    return f"{text}, {day.year}" if year else text


def range_label(start: dt.date, end: dt.date, *, this_year: int | None = None) -> str:
    """[start, end) as people say it, with the last day included: "Nov 1 – Nov 30", "Nov 7",
    "Nov 1, 2026 – Jan 3, 2027" across years, the year added when it isn't `this_year`.

    The exclusive end stays in URLs and API calls; every page shows its range through here."""
    last = max(end - dt.timedelta(days=1), start)
    this_year = this_year if this_year is not None else timezone.localdate().year
    if start.year != last.year:
        return f"{_day(start, year=True)} – {_day(last, year=True)}"
    other_year = start.year != this_year
    if start == last:
        return _day(start, year=other_year)
    return f"{_day(start, year=False)} – {_day(last, year=other_year)}"


@register.filter
def date_range(start: dt.date | None, end: dt.date | None) -> str:
    """`{{ start|date_range:end }}`: the range label of [start, end) (range_label)."""
    if not start or not end:
        return ""
    if isinstance(start, dt.datetime):
        start = start.date()
    if isinstance(end, dt.datetime):
        end = end.date()
    return range_label(start, end)
