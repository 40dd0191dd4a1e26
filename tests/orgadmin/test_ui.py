"""Shared page furniture: security headers, the chart tag, and messages after htmx requests."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
from django.template import Context, Template


def test_it_sends_a_strict_content_security_policy(client_as, admin, db):
    response = client_as(admin).get("/")
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_has_no_inline_scripts_on_the_page(client_as, admin, db):
    body = client_as(admin).get("/").content.decode()
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_it_embeds_a_figure_as_inert_json_that_cannot_close_its_template():
    fig = go.Figure(go.Bar(x=["a"], y=[1], name="</template><script>alert(1)</script>"))
    html = Template("{% load ui %}{% plotly_chart fig 'c1' %}").render(Context({"fig": fig}))
    assert 'data-plotly="c1-data"' in html
    # A <template>, which htmx keeps in swapped fragments (it strips every <script>).
    payload = re.search(r'<template id="c1-data">(.*)</template>', html, re.S)
    assert "</template><script>" not in payload.group(1)
    assert "<script" not in html
    assert json.loads(payload.group(1))["data"][0]["name"].startswith("</template>")
