"""Names from the API are text in a chart, never markup: Plotly reads `<a href>`, `<b>` and
entities in trace names and hover labels, so a project named like a link became a working link in
the Costs legend. tests/browser/test_chart_names.py sees the same in Chromium."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.charts import Series, cost_by_day_figure, split_figure, usage_over_time_figure
from dashboard.models import USAGE_MODELS, CostBucket
from orgadmin.models import Project
from tests.factories import OrganizationFactory

PHISH = '<a href="https://evil.example/phish">Re-authenticate here</a>'
AS_TEXT = html.escape(PHISH, quote=False)  # what Plotly draws as PHISH, letter for letter
DAYS = [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]
HOURS = [dt.datetime(2025, 3, 1, h, tzinfo=dt.UTC) for h in (0, 1)]


def _figures(series: list[Series]):
    yield cost_by_day_figure(days=DAYS, series=series)
    yield usage_over_time_figure(buckets=HOURS, series=series, metric_label="Tokens", width="1h")
    yield split_figure(buckets=HOURS, parts=series, title="Split", y_title="Tokens", width="1h")


def test_it_puts_a_series_name_into_every_figure_as_text():
    for fig in _figures([Series(PHISH, [1.0, 2.0], drill="/costs/?project_id=proj_x")]):
        [trace] = fig.data
        assert trace.name == AS_TEXT
        # The hover label shows the (escaped) name; it is not pasted in a second time.
        assert "%{fullData.name}" in trace.hovertemplate
        assert "evil.example" not in trace.hovertemplate
        assert "<a" not in fig.to_json()


def test_it_shows_ampersands_and_template_braces_in_a_name_as_typed():
    [trace] = cost_by_day_figure(days=DAYS, series=[Series("R&D %{y} &lt;", [1, 2])]).data

    assert trace.name == "R&amp;D %{y} &amp;lt;"  # Plotly draws: R&D %{y} &lt;
    assert "%{y}" not in trace.hovertemplate.replace("%{y:", "")  # only the value's own


@pytest.fixture
def phish_org(db):
    """Costs and usage of a project whose name (from the API) reads like a link."""
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_phish", name=PHISH)
    today = timezone.now().date()
    for day in (today - dt.timedelta(days=2), today - dt.timedelta(days=1)):
        CostBucket.objects.create(
            org=org, day=day, line_item="gpt-5, input", project_id="proj_phish",
            api_key_id="key_1", amount=Decimal("1.50"), currency="usd",
        )  # fmt: skip
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)
    USAGE_MODELS["completions"].objects.create(
        org=org, bucket_start=hour, project_id="proj_phish", user_id="user_1",
        api_key_id="key_1", model="gpt-5", batch="false", service_tier="default",
        input_tokens=100, output_tokens=10, num_model_requests=2,
    )  # fmt: skip
    return org


def _chart_json(body: str, chart_id: str) -> dict:
    """The figure as the page hands it to static/js/charts.js."""
    match = re.search(rf'<template id="{chart_id}-data">(.*?)</template>', body, re.S)
    assert match, f"no {chart_id} on the page"
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("url", "params", "chart_id"),
    [
        ("costs", {"preset": "7d", "group_by": "project_id"}, "chart-costs"),
        ("usage", {"preset": "7d", "group_by": "project_id", "bucket_width": "1h"}, "chart-usage"),
    ],
)
def test_it_hands_the_browser_a_project_name_as_text(
    phish_org, client_as, finance, url, params, chart_id
):
    body = client_as(finance).get(reverse(url), params).content.decode()

    names = [trace["name"] for trace in _chart_json(body, chart_id)["data"]]
    assert names == [AS_TEXT]
    assert PHISH not in body  # nowhere on the page: the table escapes it too
