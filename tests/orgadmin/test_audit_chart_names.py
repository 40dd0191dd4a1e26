"""The audit explorer's chart names an unknown category by the event type the API sent: as text,
never as Plotly markup."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import plotly.graph_objects as go
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgadmin.charts import audit_events_figure
from orgadmin.sync.audit import audit_events_store
from tests.factories import OrganizationFactory

DAY = dt.date(2025, 3, 3)


def test_it_names_an_unknown_category_as_text():
    counts = {(DAY, '<a href="https://evil.example/x">sign in</a>'): 2, (DAY, "api_key"): 1}

    fig = audit_events_figure(counts, start=DAY, end=DAY + dt.timedelta(days=1))

    names = [trace.name for trace in fig.data]
    assert names == ["API keys", '&lt;a href="https://evil.example/x"&gt;sign in&lt;/a&gt;']
    assert all("%{fullData.name}" in trace.hovertemplate for trace in fig.data)
    assert "evil.example" not in "".join(trace.hovertemplate for trace in fig.data)
    go.Figure(fig)  # still a valid figure


def test_it_draws_an_event_type_from_the_api_as_text_on_the_explorer(client_as, auditor, db):
    org = OrganizationFactory(name="Odd types")
    raw = {
        "id": "audit_log-odd",
        "type": "<b>boom</b>.created",
        "effective_at": int(timezone.now().timestamp()) - 60,
    }
    with transaction.atomic():
        audit_events_store(org=org, raws=[raw])

    body = client_as(auditor).get(reverse("orgadmin:audit_log")).content.decode()

    match = re.search(r'<template id="audit-chart-data">(.*?)</template>', body, re.S)
    assert match
    [trace] = json.loads(match.group(1))["data"]
    assert trace["name"] == html.escape("<b>boom</b>", quote=False)
