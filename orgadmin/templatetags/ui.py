"""Small template helpers shared by every page."""

from __future__ import annotations

import plotly.io as pio
from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def _json_escaped(text: str) -> str:
    """The same escapes as Django's json_script (the JSON can't close its tag), as three C-speed
    passes: str.translate with a mapping looks up every character of a figure's JSON."""
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


register = template.Library()


@register.simple_tag
def plotly_chart(figure, chart_id: str, css_class: str = "chart", drilldown: str = "") -> str:
    """Place a Plotly figure: a div, and its JSON in an inert <template>.

    static/js/charts.js draws it (no inline script, so the CSP holds). A <template>, not a
    <script type="application/json">: htmx (allowScriptTags=false) strips every script tag from
    swapped fragments, which would leave a chart in a fragment without its data. `drilldown` is a
    URL template for clicks: `{x}`, `{name}` and `{customdata}` are filled from the clicked point.
    """
    # dashboard.charts.Figure is plain JSON already; a graph object is serialized unvalidated.
    to_json = getattr(figure, "to_json", None)
    text = to_json() if callable(to_json) and not hasattr(figure, "to_plotly_json") else None
    if text is None:
        text = pio.to_json(figure, validate=False)
    return format_html(
        '<div class="{}" id="{}" data-plotly="{}-data" data-drilldown="{}" role="figure" '
        'aria-label="{}"></div><template id="{}-data">{}</template>',
        css_class,
        chart_id,
        chart_id,
        drilldown,
        (figure.layout.title.text or "Chart") if figure.layout.title else "Chart",
        chart_id,
        mark_safe(_json_escaped(text)),  # noqa: S308
    )
