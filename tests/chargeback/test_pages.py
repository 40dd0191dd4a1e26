"""The chargeback pages: Finance and Admin read the report and the centres, only an Admin
changes them or closes a month; bad input is answered on the page; the CSV is safe to open in a
spreadsheet and the Excel file's numbers are the report's."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dashboard.chargeback.models import Assignment, ClosedMonth, CostCentre, SharedRule
from dashboard.chargeback.selectors import chargeback_report
from orgadmin.models import ActionLog
from tests.chargeback.conftest import assign, centre, cost

pytestmark = pytest.mark.django_db
OCT = dt.date(2025, 10, 1)
REPORT = reverse("chargeback") + "?month=2025-10"


@pytest.fixture
def october(acme):
    """October's costs: a project charged to a centre whose name a spreadsheet would run."""
    cost(acme, dt.date(2025, 10, 2), "12.345678", project_id="proj_web", api_key_id="key_web")
    cost(acme, dt.date(2025, 10, 9), "7.5", project_id="proj_lab", api_key_id="key_lab")
    evil = centre(acme, '=HYPERLINK("http://x")', code="CC-1")
    assign(acme, "project", "proj_web", evil)
    return acme


def test_finance_reads_the_report_and_its_files_but_changes_nothing(october, client_as, finance):
    client = client_as(finance)

    page = client.get(REPORT)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Chargeback: October 2025" in text
    assert "$19.85" in text  # the month's bill to the cent: 12.345678 + 7.5
    assert "Close October 2025" not in text  # an Admin's button
    assert client.get(reverse("cost_centres")).status_code == 200
    assert (
        client.get(reverse("chargeback_export", args=["csv"]) + "?month=2025-10").status_code == 200
    )
    for name, data in (("chargeback_close", {"month": "2025-10"}), ("centre_add", {"name": "X"})):
        assert client.post(reverse(name), data).status_code == 403
    assert not ClosedMonth.objects.exists()


def test_an_auditor_sees_none_of_it(october, client_as, auditor):
    client = client_as(auditor)
    assert client.get(REPORT).status_code == 403
    assert client.get(reverse("cost_centres")).status_code == 403


def test_an_admin_closes_a_month_and_the_page_says_so(october, client_as, admin):
    client = client_as(admin)
    assert "Close October 2025" in client.get(REPORT).content.decode()

    response = client.post(reverse("chargeback_close"), {"month": "2025-10"}, follow=True)

    text = response.content.decode()
    assert "Closed October 2025: its report stays as it is now." in text
    assert "Closed on" in text
    assert ClosedMonth.objects.filter(org=october, month=OCT).exists()
    again = client.post(reverse("chargeback_close"), {"month": "2025-10"}, follow=True)
    assert "October 2025 is closed already." in again.content.decode()


def test_the_csv_is_safe_in_a_spreadsheet_and_adds_up(october, client_as, finance):
    response = client_as(finance).get(reverse("chargeback_export", args=["csv"]) + "?month=2025-10")

    assert response["Content-Disposition"] == 'attachment; filename="chargeback-2025-10.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    centres = {r["centre"] for r in rows}
    assert '\'=HYPERLINK("http://x")' in centres  # inert text, not a formula
    assert "Unallocated" in centres
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("19.85")
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)


def test_the_excel_file_opens_and_its_numbers_are_the_reports(october, client_as, finance):
    response = client_as(finance).get(
        reverse("chargeback_export", args=["xlsx"]) + "?month=2025-10"
    )

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Summary", "Lines"]
    summary = list(book["Summary"].iter_rows(min_row=2, values_only=True))
    report = chargeback_report(org=october, month=OCT)
    expected = [(t.name, float(t.total)) for t in report.totals]
    assert [(row[0], row[6]) for row in summary[:-1]] == expected
    assert summary[-1][0] == "Total"
    assert summary[-1][6] == pytest.approx(19.85)
    total_cell = book["Summary"].cell(row=len(summary) + 1, column=7)
    assert isinstance(total_cell.value, float | int)  # a number a sheet can sum
    assert "$" in total_cell.number_format
    name_cell = book["Summary"].cell(row=2, column=1)
    assert name_cell.data_type == "s"  # the centre named like a formula stays text
    lines = list(book["Lines"].iter_rows(min_row=2, values_only=True))
    assert sum(Decimal(str(r[14])) for r in lines) == Decimal("19.85")


def test_bad_input_is_answered_on_the_page(october, client_as, admin):
    client = client_as(admin)
    web = CostCentre.objects.get(org=october)
    junk_month = client.get(reverse("chargeback") + "?month=2025-13")
    assert junk_month.status_code == 200
    assert "Enter a month as YYYY-MM" in junk_month.content.decode()
    assert client.get(reverse("chargeback_export", args=["csv"]) + "?month=x").status_code == 400
    cases = [
        ("centre_add", {"name": web.name}, "A cost centre has this name already."),
        ("centre_add", {"name": "  "}, "This field is required."),
        ("assignment_add", {"kind": "project", "value": "../etc", "centre": web.pk},
         "Enter an OpenAI id"),
        ("assignment_add", {"kind": "project", "value": "proj_web", "centre": web.pk},
         "assigned to a cost centre already"),
        ("assignment_add", {"kind": "nope", "value": "proj_x", "centre": 999}, "Select a valid"),
        ("rule_add", {"name": "R", "target": "project", "project_id": "", "method": "fixed",
                      f"share_{web.pk}": "100"}, "Enter the id of the project"),
        ("rule_add", {"name": "R", "target": "remainder", "method": "fixed",
                      f"share_{web.pk}": "60"}, "The percentages add up to 60, not 100."),
        ("rule_add", {"name": "R", "target": "remainder", "method": "fixed",
                      f"share_{web.pk}": "abc"}, "Enter a percent such as 40"),
    ]  # fmt: skip
    for name, data, error in cases:
        response = client.post(reverse(name), data)
        assert response.status_code == 200, (name, data)
        assert error in response.content.decode(), (name, data)
    assert (
        client.post(reverse("chargeback_close"), {"month": "junk"}, follow=True).status_code == 200
    )
    reopen = client.post(reverse("chargeback_reopen"), {"month": "2025-10", "reason": "x"},
                         follow=True)  # fmt: skip
    assert "October 2025 isn't closed." in html.unescape(reopen.content.decode())
    assert Assignment.objects.filter(org=october).count() == 1
    assert not SharedRule.objects.exists()


def test_every_change_is_in_the_action_log(october, client_as, admin):
    client = client_as(admin)
    client.post(reverse("centre_add"), {"name": "Data", "code": "D-2", "owner": "Dana"})
    data = CostCentre.objects.get(org=october, name="Data")
    client.post(reverse("centre_edit", args=[data.pk]), {"name": "Data team", "code": "D-2"})
    client.post(reverse("assignment_add"), {"kind": "api_key", "value": "key_lab",
                                            "centre": data.pk})  # fmt: skip
    client.post(reverse("rule_add"), {"name": "Remainder", "target": "remainder",
                                      "method": "usage", f"share_{data.pk}": "1"})  # fmt: skip
    rule = SharedRule.objects.get(org=october)
    refused = client.post(reverse("centre_remove", args=[data.pk]), follow=True)
    assert "The rule “Remainder” shares cost to it" in refused.content.decode()
    client.post(reverse("rule_remove", args=[rule.pk]))
    assignment = Assignment.objects.get(org=october, value="key_lab")
    client.post(reverse("assignment_remove", args=[assignment.pk]))
    client.post(reverse("centre_remove", args=[data.pk]))

    actions = list(
        ActionLog.objects.filter(org=october, actor=admin)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "chargeback.centre_create",
        "chargeback.centre_update",
        "chargeback.assignment_create",
        "chargeback.rule_create",
        "chargeback.rule_delete",
        "chargeback.assignment_delete",
        "chargeback.centre_delete",
    ]
    assert not CostCentre.objects.filter(org=october, name="Data team").exists()


def test_the_setup_page_names_what_is_assigned(october, client_as, finance):
    from orgadmin.models import Project

    Project.objects.create(org=october, openai_id="proj_web", name="Web app")

    text = client_as(finance).get(reverse("cost_centres")).content.decode()

    assert "Web app" in text
    assert "proj_web" in text
    assert "Add a cost centre" not in text  # Finance reads only


@pytest.mark.parametrize("url_name", ["assignment_add", "rule_add"])
def test_an_assignment_or_rule_before_any_centre_says_to_add_one_first(
    acme, client_as, admin, url_name
):
    response = client_as(admin).post(reverse(url_name), {})
    assert response.status_code == 200
    assert "add a cost centre first" in response.content.decode()
