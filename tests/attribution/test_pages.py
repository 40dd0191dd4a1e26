"""The attribution pages as each role sees them, their exports, bad input, price overrides in
the action log, and an xAI team's reconciliation against its invoices."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.attribution.models import PriceOverride
from dashboard.attribution.selectors import attributed_costs
from dashboard.models import CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.models import ActionLog
from orgadmin.sync.directory import directory_sync
from tests.attribution.conftest import TODAY, cost

PAGES = ["attribution", "attribution_keys", "attribution_reconciliation", "attribution_prices"]


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.django_db
def test_it_shows_finance_who_spent_what_and_keeps_the_auditor_out(
    org, week, client_as, finance, auditor
):
    directory_sync(org=org)
    start, end = week
    c = client_as(finance)
    query = f"?start={start}&end={TODAY}"
    for name in PAGES:
        assert c.get(reverse(name) + query).status_code == 200, name
        assert client_as(auditor).get(reverse(name)).status_code == 403, name
    page = body(c.get(reverse("attribution") + query))
    top = max(
        {r.user_id for r in attributed_costs(org=org, start=start, end=end) if r.user_id},
        key=lambda u: sum(
            r.amount for r in attributed_costs(org=org, start=start, end=end) if r.user_id == u
        ),
    )
    assert "attributed" in page
    assert f"person={top}" in page
    drill = body(c.get(reverse("attribution") + query + f"&person={top}"))
    assert "By model" in drill
    assert "By key" in drill
    assert "chart-drill" in drill


@pytest.mark.django_db
def test_it_says_billed_or_attributed_for_every_key(org, week, client_as, finance):
    page = body(client_as(finance).get(reverse("attribution_keys")))
    assert page.count("basis-billed") > 3  # the demo's cost rows name their keys


@pytest.mark.django_db
def test_it_answers_bad_ranges_with_a_message_not_a_500(org, client_as, finance):
    c = client_as(finance)
    for query in ["start=junk", "start=2025-02-01&end=2025-01-01", "start=1999-01-01",
                  "start=2020-01-01&end=2025-01-01", "person=" + "x" * 500]:  # fmt: skip
        response = c.get(reverse("attribution_reconciliation") + "?" + query)
        assert response.status_code == 200, query
        assert 'role="alert"' in body(response), query
        if query.startswith("person="):  # the refused field is named beside its message
            assert "Person: Ensure this value has at most 100 characters" in body(response)
        export = c.get(reverse("attribution_people_export", args=["csv"]) + "?" + query)
        assert export.status_code == 400, query


def _csv(response) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(body(response))))
    return rows[0], rows[1:]


@pytest.mark.django_db
def test_it_exports_spreadsheet_safe_exact_amounts(org, client_as, finance):
    cost(org, TODAY, "gpt-4o, input", "1.123456789012", quantity=None, key="=cmd|' /C calc'!A0")
    c = client_as(finance)
    header, rows = _csv(c.get(reverse("attribution_reconciliation_export", args=["csv"])))
    today = next(r for r in rows if r[0] == TODAY.isoformat())
    assert today[header.index("billed_amount")] == "1.123456789012"  # every digit
    assert today[header.index("attributed_amount")] == "0"
    assert today[header.index("reasons")] == "no usage synced for this line item: 1.123456789012"
    header, rows = _csv(c.get(reverse("attribution_keys_export", args=["csv"])))
    assert rows[0][header.index("api_key_id")].startswith("'=")  # inert text in a sheet
    assert rows[0][header.index("basis")] == "billed"


@pytest.mark.django_db
def test_it_lets_an_admin_set_and_remove_a_price_in_the_action_log(org, client_as, admin, finance):
    url = reverse("attribution_price_add")
    data = {"line_item": "gpt-4o,  input", "usd": "$2.50", "per": "1M tokens",
            "effective_from": "2025-01-01", "note": "negotiated"}  # fmt: skip
    assert client_as(finance).post(url, data).status_code == 403
    c = client_as(admin)
    assert c.post(url, data).status_code == 302
    override = PriceOverride.objects.get(org=org)
    assert (override.line_item, override.usd) == ("gpt-4o, input", Decimal("2.5"))
    again = c.post(url, data)  # the same day twice: refused beside the field
    assert again.status_code == 200
    assert "from that day already" in body(again)
    for junk in [{"usd": "lots"}, {"usd": "-1"}, {"effective_from": "x"}, {"per": "ton"}]:
        assert c.post(url, {**data, **junk}).status_code == 200
    assert PriceOverride.objects.count() == 1
    remove = reverse("attribution_price_remove")
    assert c.post(remove, {"override": "nope"}).status_code == 302
    assert c.post(remove, {"override": override.pk}).status_code == 302
    assert not PriceOverride.objects.exists()
    logged = list(ActionLog.objects.filter(org=org).values_list("action", flat=True))
    assert sorted(logged) == ["price_override.create", "price_override.delete"]


@pytest.mark.django_db
def test_it_marks_prices_derived_or_from_the_table(org, client_as, finance):
    cost(org, TODAY, "gpt-4o-2024-08-06, output", "1", quantity="100000")
    cost(org, TODAY, "gpt-4o-2024-08-06, input", "1", quantity=None)
    page = body(client_as(finance).get(reverse("attribution_prices")))
    assert ">derived<" in page
    assert ">table<" in page
    assert "per 1M tokens" in page


@pytest.mark.django_db
def test_it_reads_a_fixed_number_of_queries_whatever_the_range(org, week, client_as, finance):
    c = client_as(finance)
    c.get(reverse("attribution_reconciliation"))  # the session's own first queries
    counts = []
    for days in (1, 7):
        start = TODAY.fromordinal(TODAY.toordinal() - days)
        with CaptureQueriesContext(connection) as queries:
            c.get(reverse("attribution_reconciliation") + f"?start={start}&end={TODAY}")
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_it_reconciles_an_xai_teams_synced_costs_with_its_invoices(team, client_as, admin):
    usage_sync(org=team)
    assert CostBucket.objects.filter(org=team).exists()
    page = body(client_as(admin).get(reverse("attribution_reconciliation")))
    assert "Synced costs against invoices" in page
    assert "XAI-" in page
    assert "month so far (preview)" in page
    people = body(client_as(admin).get(reverse("attribution")))
    assert "reports no usage per person" in people
