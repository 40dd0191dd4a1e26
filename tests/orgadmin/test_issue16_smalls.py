"""Issue 16, item 14's smalls that FIRST-RUN owns, as a person sees them: an expired certificate
says so; Activity shows each time's zone and exports what the page shows (CSV, spreadsheet-safe);
the Connections row lets its actions wrap; the tab bars and the Projects counts don't overlap."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from orgadmin.models import ActionLog, Certificate
from orgadmin.views.activity import EXPORT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


# --- certificates say "Expired" when they are ---------------------------------------------------


def test_it_says_expired_for_a_certificate_past_its_expiry(client_as, admin, org):
    now = timezone.now()
    Certificate.objects.create(
        org=org, openai_id="cert_old", name="Old mTLS", expires_at=now - dt.timedelta(days=3),
        valid_at=now - dt.timedelta(days=400), active=True,
    )  # fmt: skip
    Certificate.objects.create(
        org=org, openai_id="cert_new", name="New mTLS", expires_at=now + dt.timedelta(days=300),
        valid_at=now - dt.timedelta(days=30), active=True,
    )  # fmt: skip
    html = client_as(admin).get(reverse("orgadmin:org_settings")).content.decode()
    trs = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    rows = {name: row for row in trs for name in ("Old mTLS", "New mTLS") if name in row}
    assert 'badge-error">Expired</span>' in rows["Old mTLS"]
    assert "still active" in rows["Old mTLS"]
    assert "Expired" not in rows["New mTLS"]
    assert 'badge-ok">Active</span>' in rows["New mTLS"]


# --- Activity: times with their zone, and an export --------------------------------------------


def _action(org, **kwargs) -> ActionLog:
    fields = {
        "org": org,
        "org_name": org.name,
        "actor_name": "ana",
        "action": "project.create",
        "summary": "Created the project “Search”",
        "outcome": ActionLog.Outcome.OK,
    }
    return ActionLog.objects.create(**{**fields, **kwargs})


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_shows_each_activity_time_with_its_zone_and_an_export_link(client_as, auditor, org):
    _action(org, created_at=dt.datetime(2026, 3, 4, 10, 5, tzinfo=dt.UTC))
    html = client_as(auditor).get(reverse("orgadmin:activity") + "?outcome=ok").content.decode()
    assert re.search(r"2026-03-04 10:05 <small class=\"muted\">UTC</small>", html)
    assert f'href="{reverse("orgadmin:activity_export")}?outcome=ok"' in html


def test_it_exports_the_activity_with_the_pages_filters(client_as, auditor, org):
    _action(
        org,
        summary="Created the project “Search”",
        created_at=dt.datetime(2026, 3, 4, 10, 5, tzinfo=dt.UTC),
    )
    _action(org, summary="Removed bo", action="user.delete", outcome="error", error="HTTP 403")
    _action(org, summary='=HYPERLINK("http://x")', actor_name="@eve", request_id="req_1")

    response = client_as(auditor).get(reverse("orgadmin:activity_export"), {"q": "Search"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="activity-')
    header, *rows = _csv(response)
    assert header == EXPORT_COLUMNS
    assert rows == [
        [
            "2026-03-04T10:05:00Z", "ana", "project.create", "Created the project “Search”",
            "", "", "Succeeded", "", "", org.name,
        ]
    ]  # fmt: skip

    failed = _csv(client_as(auditor).get(reverse("orgadmin:activity_export"), {"outcome": "error"}))
    assert [r[EXPORT_COLUMNS.index("error")] for r in failed[1:]] == ["HTTP 403"]


def test_it_exports_formulas_as_inert_text(client_as, auditor, org):
    _action(org, summary='=HYPERLINK("http://x")', actor_name="@eve")
    _header, row = _csv(client_as(auditor).get(reverse("orgadmin:activity_export")))
    assert row[EXPORT_COLUMNS.index("summary")] == '\'=HYPERLINK("http://x")'
    assert row[EXPORT_COLUMNS.index("who")] == "'@eve"


def test_it_refuses_an_export_with_a_bad_filter(client_as, auditor, org):
    response = client_as(auditor).get(reverse("orgadmin:activity_export"), {"outcome": "maybe"})
    assert response.status_code == 400
    assert "outcome" in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("auditor", 200), ("admin", 200), ("finance", 403)])
def test_only_the_roles_that_read_activity_export_it(client_as, request, org, who, status):
    user = request.getfixturevalue(who)
    assert client_as(user).get(reverse("orgadmin:activity_export")).status_code == status


# --- layout: the causes, where they live -------------------------------------------------------


def test_the_connections_table_lets_its_actions_wrap(client_as, admin, org):
    html = client_as(admin).get(reverse("orgadmin:connections")).content.decode()
    assert 'class="table-wrap wrap-actions"' in html
    assert ">Remove</button>" in html
    css = (ROOT / "static/css/app.css").read_text()
    assert ".table-wrap.wrap-actions td .actions { flex-wrap: wrap;" in css


def test_the_tab_bars_wrap_and_the_segmented_counts_sit_inline():
    css = (ROOT / "static/css/app.css").read_text()
    assert ".tabs { flex-wrap: wrap; overflow-x: visible;" in css
    assert "fieldset.segmented label small { display: inline;" in css
