"""Small template helpers shared by every page."""

from __future__ import annotations

import json
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio
from django import template
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


def _figure_json(figure: go.Figure) -> str:
    """The figure as the browser draws it: as built, with Plotly's default template when its
    own is empty (as orgadmin.charts.figure leaves it). Plotly's encoder turns dates, Decimals
    and NaN into JSON; compact, and a `/` left as it is."""
    spec = figure.to_plotly_json()
    layout = spec.setdefault("layout", {})
    if not layout.get("template"):
        layout["template"] = _default_template()
    return json.dumps(spec, cls=PlotlyJSONEncoder, separators=(",", ":"))


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
