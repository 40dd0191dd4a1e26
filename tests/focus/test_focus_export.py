"""The FOCUS 1.2 export (dashboard/focus.py) of a simulator month, OpenAI's and an xAI team's:
the FinOps Foundation's validator passes it, and its columns hold the synced costs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from dashboard import focus
from dashboard.chargeback import services as chargeback
from dashboard.chargeback.models import Assignment
from dashboard.models import CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.models import Project
from orgadmin.sync.directory.run import directory_sync
from tests.factories import UserFactory
from tests.focus.validator import validate

pytestmark = pytest.mark.django_db

FAMILIES = ["moderations"]  # costs always sync; one small usage family keeps the sync quick


def _last_month(clock) -> dt.date:
    return (clock.datetime().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _get(client, month: dt.date, **params):
    return client.get(reverse("costs_focus"), {"month": f"{month:%Y-%m}", **params})


def _write(tmp_path, response) -> tuple[list[dict[str, str]], object]:
    text = b"".join(response.streaming_content).decode()
    path = tmp_path / "focus.csv"
    path.write_text(text)
    return list(csv.DictReader(io.StringIO(text))), path


def _month_buckets(org, month):
    start, end = focus.month_bounds(month)
    return CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)


def test_it_passes_the_focus_validator_for_an_openai_month(
    org, clock, client_as, finance, tmp_path
):
    usage_sync(org=org, families=FAMILIES)
    month = _last_month(clock)

    rows, path = _write(tmp_path, _get(client_as(finance), month))
    result = validate(path)

    assert result.failures == [], result.output[-4000:]
    assert result.passed > 0
    assert result.total == result.passed + result.failed + result.skipped
    # Recommended columns were checked, not skipped.
    for rule in ("InvoiceId-C-000-O", "ServiceSubcategory-C-000-O", "ChargeFrequency-C-000-O"):
        assert result.statuses[rule] == "PASS", rule
    assert len(rows) == _month_buckets(org, month).count()


def test_it_passes_the_focus_validator_for_an_xai_team_month(
    team, xai_simulator, clock, client_as, finance, tmp_path
):
    usage_sync(org=team)
    month = _last_month(clock)
    client = client_as(finance)
    client.post(reverse("switch"), {"org": team.pk})

    rows, path = _write(tmp_path, _get(client, month))
    result = validate(path)

    assert result.failures == [], result.output[-4000:]
    (invoice,) = [
        i
        for i in xai_simulator.store.invoices
        if (i.year, i.month) == (month.year, month.month) and i.flavour == "monthly"
    ]
    usage = [r for r in rows if r["ChargeCategory"] == "Usage"]
    (tax,) = [r for r in rows if r["ChargeCategory"] == "Tax"]
    assert {r["InvoiceId"] for r in rows} == {invoice.invoice_id}
    assert Decimal(tax["BilledCost"]) == Decimal(invoice.tax) / 100
    # The invoice's subtotal is the month's synced usage, to the cent.
    assert sum(Decimal(r["BilledCost"]) for r in usage) == Decimal(invoice.subtotal) / 100
    assert {r["SubAccountId"] for r in rows} == {team.account_id}
    assert {r["x_QuantitySource"] for r in usage} == {"derived"}


def test_its_billed_cost_adds_up_to_the_months_buckets_exactly(org, clock, client_as, finance):
    usage_sync(org=org, families=FAMILIES)
    month = _last_month(clock)
    rows = _rows(_get(client_as(finance), month))

    by_day: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert row["BilledCost"] == row["EffectiveCost"] == row["ListCost"] == row["ContractedCost"]
        by_day[row["ChargePeriodStart"][:10]] += Decimal(row["BilledCost"])
    stored = _month_buckets(org, month).values("day").annotate(total=Sum("amount"))
    assert by_day == {f"{r['day']:%Y-%m-%d}": r["total"] for r in stored}
    total = _month_buckets(org, month).aggregate(total=Sum("amount"))["total"]
    assert sum(by_day.values()) == total  # every digit: nothing rounded, no cent lost


def test_its_columns_hold_the_buckets_projects_and_keys(org, clock, client_as, finance):
    usage_sync(org=org, families=FAMILIES)
    directory_sync(org=org)
    month = _last_month(clock)
    rows = _rows(_get(client_as(finance), month))
    start, end = focus.month_bounds(month)

    tokens = _month_buckets(org, month).filter(quantity_unit="tokens")
    bucket = tokens.exclude(api_key_id="").first()
    (row,) = [
        r
        for r in rows
        if r["ChargePeriodStart"] == f"{bucket.day}T00:00:00Z"
        and r["ChargeDescription"] == bucket.line_item
        and r["SubAccountId"] == bucket.project_id
        and r["ResourceId"] == bucket.api_key_id
    ]
    project = Project.objects.get(org=org, openai_id=bucket.project_id)
    assert row["SubAccountName"] == project.name
    assert (
        row["ResourceName"] == focus.names_for(org=org, ids=[bucket.api_key_id])[bucket.api_key_id]
    )
    assert row["BillingPeriodStart"] == f"{start}T00:00:00Z"
    assert row["BillingPeriodEnd"] == f"{end}T00:00:00Z"
    assert row["ChargePeriodEnd"] == f"{bucket.day + dt.timedelta(days=1)}T00:00:00Z"
    assert Decimal(row["ConsumedQuantity"]) == bucket.quantity
    assert Decimal(row["PricingQuantity"]) * 1_000_000 == bucket.quantity
    assert (row["ConsumedUnit"], row["PricingUnit"]) == ("Tokens", "1000000 Tokens")
    assert Decimal(row["BilledCost"]) == bucket.amount
    assert row["SkuPriceId"] == bucket.line_item
    assert row["x_Model"] == bucket.model
    for r in rows:
        assert r["ChargeCategory"] == "Usage"
        assert r["ChargeClass"] == ""
        assert r["ProviderName"] == r["ServiceProviderName"] == r["HostProviderName"] == "OpenAI"
        assert r["InvoiceId"] == f"openai-{org.pk}-{month:%Y-%m}"
    batch = next(r for r in rows if r["SkuPriceId"].endswith("(batch)"))
    assert batch["SkuId"] == batch["SkuPriceId"].removesuffix(" (batch)")


def test_its_tags_carry_the_cost_centre(org, clock, client_as, admin, finance):
    usage_sync(org=org, families=FAMILIES)
    month = _last_month(clock)
    project = _month_buckets(org, month).values_list("project_id", flat=True).first()
    centre = chargeback.centre_create(org=org, actor=admin, name="Research", code="R1", owner="")
    chargeback.assignment_create(
        org=org, actor=admin, kind=Assignment.Kind.PROJECT, value=project, centre=centre
    )

    rows = _rows(_get(client_as(finance), month))

    for row in rows:
        if row["SubAccountId"] == project:
            assert json.loads(row["Tags"]) == {"x_CostCentre": "Research"}
            assert row["x_CostCentre"] == "Research"
        else:
            assert row["Tags"] == ""
            assert row["x_CostCentre"] == ""
    assert any(r["SubAccountId"] == project for r in rows)


def test_its_cells_are_safe_to_open_in_a_spreadsheet(org, clock, client_as, finance):
    usage_sync(org=org, families=FAMILIES)
    month = _last_month(clock)
    project = _month_buckets(org, month).values_list("project_id", flat=True).first()
    Project.objects.create(org=org, openai_id=project, name='=HYPERLINK("http://x.test","a")')

    rows = _rows(_get(client_as(finance), month))

    names = {r["SubAccountName"] for r in rows if r["SubAccountId"] == project}
    assert names == {'\'=HYPERLINK("http://x.test","a")'}


@pytest.mark.parametrize(
    ("role", "status"), [(Role.FINANCE, 200), (Role.ADMIN, 200), (Role.AUDITOR, 403)]
)
def test_it_is_for_finance_and_admins(org, client_as, clock, role, status):
    user = UserFactory(username=f"u-{role}", roles_on={org: role})
    response = _get(client_as(user), _last_month(clock))
    assert response.status_code == status


def test_all_covers_every_connection_whose_costs_one_may_read(org, team, clock, client_as):
    usage_sync(org=org, families=FAMILIES)
    usage_sync(org=team)
    month = _last_month(clock)
    both = UserFactory(username="both", roles_on={org: Role.FINANCE, team: Role.ADMIN})
    one = UserFactory(username="one", roles_on={org: Role.FINANCE, team: Role.AUDITOR})

    everyone = _rows(_get(client_as(both), month, all=1))
    only_org = _rows(_get(client_as(one), month, all=1))
    url = reverse("all_costs_focus")
    through_all = _rows(client_as(both).get(url, {"month": f"{month:%Y-%m}"}))

    assert {r["BillingAccountName"] for r in everyone} == {org.name, team.name}
    assert {r["BillingAccountName"] for r in only_org} == {org.name}
    assert through_all == everyone


@pytest.mark.parametrize("month", ["", "2026-13", "last month", "2026-1", "9999-01"])
def test_a_bad_month_is_a_message_not_an_error(org, client_as, finance, month):
    response = client_as(finance).get(reverse("costs_focus"), {"month": month})
    assert response.status_code == 400
    assert b"month" in response.content


def test_an_xai_invoice_that_cannot_be_read_exports_nothing_and_says_why(
    team, clock, client_as, finance, monkeypatch
):
    from orgadmin.client import OrgAPIError

    def refuse(**kwargs):
        raise OrgAPIError("The management key may not read billing.", status=403)

    monkeypatch.setattr(focus, "billing_invoices", refuse)
    client = client_as(finance)
    client.post(reverse("switch"), {"org": team.pk})

    response = _get(client, _last_month(clock))

    assert response.status_code == 502
    assert "may not read billing" in response.content.decode()


def test_the_costs_pages_offer_it_for_a_month(org, team, client_as):
    both = UserFactory(username="both", roles_on={org: Role.FINANCE, team: Role.FINANCE})
    client = client_as(both)
    for page, export in (("costs", "costs_focus"), ("all_costs", "all_costs_focus")):
        html = client.get(reverse(page)).content.decode()
        assert f'action="{reverse(export)}"' in html
        assert 'type="month" name="month"' in html
