"""The one CSV writer, and every CSV export that goes through it: formulas stay inert text."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dashboard.models import USAGE_MODELS, CostBucket
from orgadmin.csv_export import csv_stream
from orgadmin.models import Project
from orgadmin.sync.audit import audit_events_store
from tests.factories import OrganizationFactory

FORMULA = '=HYPERLINK("http://example.invalid","x")'


def _parse(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks), newline="")))


def _cells(*values) -> list[str]:
    """The cells of one row written with `values`, as a CSV reader reads them back."""
    _header, row = _parse(csv_stream([f"c{i}" for i in range(len(values))], [values]))
    return row


# --- the writer --------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_it_makes_a_text_cell_starting_with_a_formula_character_inert(start):
    assert _cells(f"{start}1+1", "safe") == [f"'{start}1+1", "safe"]


def test_it_leaves_a_formula_in_the_middle_of_a_cell_alone():
    assert _cells("Project =SUM(A1)", "a-b", "x@y.example") == [
        "Project =SUM(A1)",
        "a-b",
        "x@y.example",
    ]


def test_it_writes_numbers_as_plain_numbers_even_when_negative():
    assert _cells(Decimal("-12.50"), -3, 0, Decimal("1E-12"), Decimal("-0"), 2.5, -0.125) == [
        "-12.5",
        "-3",
        "0",
        "0.000000000001",
        "0",
        "2.5",
        "-0.125",
    ]


def test_it_treats_a_string_that_looks_like_a_negative_number_as_text():
    assert _cells("-5", "+1", "5") == ["'-5", "'+1", "5"]


def test_it_writes_a_bool_as_text_not_a_number():
    assert _cells(True, False) == ["True", "False"]


def test_it_writes_none_as_an_empty_cell():
    assert _cells(None, "", "x") == ["", "", "x"]


def test_it_still_quotes_quotes_commas_and_newlines():
    values = ('say "hi"', "a, b", "two\nlines", "=A1,\nB2", "\r\nCRLF")

    assert _cells(*values) == [
        'say "hi"',
        "a, b",
        "two\nlines",
        "'=A1,\nB2",
        "'\r\nCRLF",
    ]


def test_it_neutralises_the_header_too():
    [header] = _parse(csv_stream(["=cmd", "amount"], []))

    assert header == ["'=cmd", "amount"]


def test_it_streams_every_row_in_chunks_of_whole_lines():
    chunks = list(csv_stream(["n", "name"], ([n, f"row {n}"] for n in range(2500))))

    assert all(chunk.endswith("\r\n") for chunk in chunks)
    assert len(chunks) == 4  # the header, then 1,000 rows at a time
    rows = _parse(chunks)
    assert rows[0] == ["n", "name"]
    assert rows[1:] == [[str(n), f"row {n}"] for n in range(2500)]


# --- every export --------------------------------------------------------------------------------

TODAY = timezone.now().date()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def hostile(db):
    """An organization one of whose projects someone renamed to a spreadsheet formula."""
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_x", name=FORMULA)
    for item, amount in [("gpt-5, input", "4.20"), ("credit", "-12.50")]:
        CostBucket.objects.create(
            org=org, day=YESTERDAY, line_item=item, project_id="proj_x", api_key_id="key_1",
            amount=Decimal(amount), currency="usd", quantity=10, quantity_unit="tokens",
        )  # fmt: skip
    USAGE_MODELS["completions"].objects.create(
        org=org, bucket_start=timezone.now().replace(minute=0, second=0, microsecond=0)
        - dt.timedelta(hours=2), project_id="proj_x", user_id="user_1", api_key_id="key_1",
        model="@model", batch="false", service_tier="default", input_tokens=100,
        output_tokens=10, num_model_requests=2, input_cached_tokens=0, input_uncached_tokens=100,
    )  # fmt: skip
    raw = {
        "id": "audit_log-x",
        "type": "project.updated",
        "effective_at": int(timezone.now().timestamp()) - 60,
        "actor": {
            "type": "session",
            "session": {"user": {"id": "user_1", "email": "-alice@acme.example"}},
        },
        "project": {"id": "proj_x", "name": FORMULA},
        "project.updated": {"id": "proj_x", "changes_requested": {"title": FORMULA}},
    }
    with transaction.atomic():
        audit_events_store(org=org, raws=[raw])
    return org


def _export(client, url: str, params: dict | None = None) -> list[dict[str, str]]:
    response = client.get(url, params or {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _no_live_formula(rows: list[dict[str, str]]) -> bool:
    return not any(cell[:1] in "=+-@\t\r" and cell for row in rows for cell in row.values())


def test_it_exports_a_formula_project_name_as_inert_text_in_the_costs_csv(
    hostile, client_as, finance
):
    rows = _export(
        client_as(finance),
        reverse("costs_export", kwargs={"fmt": "csv"}),
        {"start": YESTERDAY.isoformat(), "end": TODAY.isoformat(), "group_by": "project_id"},
    )

    [row] = rows
    assert row["project_id"] == "proj_x"
    assert row["project_name"] == "'" + FORMULA
    assert row["amount"] == "-8.3"  # the credit nets off: a bare number a sheet can sum


def test_it_keeps_a_negative_amount_a_bare_number_in_the_costs_csv(hostile, client_as, finance):
    rows = _export(
        client_as(finance),
        reverse("costs_export", kwargs={"fmt": "csv"}),
        {"start": YESTERDAY.isoformat(), "end": TODAY.isoformat(), "group_by": "line_item"},
    )

    amounts = {r["line_item"]: r["amount"] for r in rows}
    assert amounts == {"credit": "-12.5", "gpt-5, input": "4.2"}
    assert Decimal(amounts["credit"]) == Decimal("-12.50")


def test_it_exports_usage_by_project_with_no_live_formula(hostile, client_as, finance):
    rows = _export(
        client_as(finance),
        reverse("usage_export", kwargs={"fmt": "csv"}),
        {
            "family": "completions",
            "preset": "7d",
            "group_by": "project_id,model",
            "bucket_width": "1h",
        },
    )

    # The usage CSV names projects by id only (its columns are the API's fields), and a text
    # dimension that starts like a formula is inert there too.
    [row] = rows
    assert row["project_id"] == "proj_x"
    assert row["model"] == "'@model"
    assert row["input_tokens"] == "100"
    assert FORMULA not in "".join(row.values())
    assert _no_live_formula(rows)


def test_it_exports_a_formula_project_name_as_inert_text_in_the_audit_csv(
    hostile, client_as, auditor
):
    rows = _export(client_as(auditor), reverse("orgadmin:audit_export_csv"))

    [row] = rows
    assert row["project_id"] == "proj_x"
    assert row["project_name"] == "'" + FORMULA
    assert row["actor_email"] == "'-alice@acme.example"
    assert _no_live_formula(rows)
