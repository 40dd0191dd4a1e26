"""All organizations (issue 17, item 6): Overview and Costs over every connection where a person
may read costs, their exports with an organization column, and who is offered the view."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.access import Role
from orgadmin.middleware import SESSION_KEY
from orgadmin.models import Project
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.now().astimezone(dt.UTC).date()
D1, D2, D3 = (TODAY - dt.timedelta(days=n) for n in (3, 2, 1))
BEFORE = TODAY - dt.timedelta(days=5)  # in the period before [D1, TODAY)

# (org, day, line item, project, amount, quantity): every row the tests below add up.
ROWS = [
    ("Acme", D1, "gpt-5, input", "proj_a", "1.10", 1000),
    ("Acme", D1, "gpt-5, output", "proj_a", "2.20", 200),
    ("Acme", D2, "gpt-5, input", "proj_b", "0.70", 700),
    ("Acme", BEFORE, "gpt-5, input", "proj_a", "0.50", 500),
    ("Bolt", D2, "gpt-5, input", "proj_a", "4.00", 4000),  # the same id, another organization
    ("Bolt", D3, "gpt-4.1, output", "proj_z", "0.25", 25),
    ("Bolt", D3, "gpt-4.1, output", "", "0.05", 5),
]
NAMES = {("Acme", "proj_a"): "Search", ("Bolt", "proj_a"): "Bolt search", ("Bolt", "proj_z"): "Z"}


def _add(org, day, item, project, amount, quantity, currency="usd"):
    CostBucket.objects.create(
        org=org, day=day, line_item=item, project_id=project, api_key_id="", amount=Decimal(amount),
        currency=currency, quantity=quantity, quantity_unit="tokens",
    )  # fmt: skip


@pytest.fixture
def orgs(db):
    found = {name: OrganizationFactory(name=name) for name in ("Acme", "Bolt")}
    for (org, project), name in NAMES.items():
        Project.objects.create(org=found[org], openai_id=project, name=name)
    for org, *rest in ROWS:
        _add(found[org], *rest)
    return found


@pytest.fixture
def fin_both(orgs):
    return UserFactory(
        username="fin-both", roles_on={orgs["Acme"]: Role.FINANCE, orgs["Bolt"]: Role.FINANCE}
    )


def _period(**extra) -> dict:
    return {"start": D1.isoformat(), "end": TODAY.isoformat(), **extra}


def _expected(key, *, org=None) -> dict:
    """The sums of ROWS in [D1, TODAY) by key(row), computed here from the rows made above."""
    sums: dict = defaultdict(Decimal)
    for row in ROWS:
        if D1 <= row[1] < TODAY and (org is None or row[0] == org):
            sums[key(row)] += Decimal(row[4])
    return dict(sums)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _json(response) -> list[dict]:
    return json.loads(b"".join(response.streaming_content), parse_float=Decimal)


def _cents(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --- who is offered it ---------------------------------------------------------------------------


def test_it_offers_all_organizations_in_the_switcher_to_finance_on_both(orgs, client_as, fin_both):
    body = client_as(fin_both).get(reverse("costs")).content.decode()

    assert '<option value="all">All organizations</option>' in body


def test_it_is_not_offered_to_finance_on_one_and_auditor_on_the_other(orgs, client_as):
    mixed = UserFactory(
        username="fin-a-aud-b", roles_on={orgs["Acme"]: Role.FINANCE, orgs["Bolt"]: Role.AUDITOR}
    )
    client = client_as(mixed)

    body = client.get(reverse("home")).content.decode()
    assert "All organizations" not in body
    assert 'name="org"' in body  # the switcher is there, with its two organizations
    for name in ("all_overview", "all_costs"):
        assert client.get(reverse(name), _period()).status_code == 404
    export = client.get(reverse("all_costs_export", kwargs={"fmt": "csv"}), _period())
    assert export.status_code == 404
    assert "Content-Disposition" not in export  # no file, not even an empty one
    # The switcher's "all" leads nowhere for them either.
    assert client.post(reverse("switch"), {"org": "all"}).status_code == 302
    assert client.get(reverse("all_costs")).status_code == 404


def test_it_refuses_someone_who_reads_no_costs_anywhere(orgs, client_as):
    auditor = UserFactory(
        username="aud-both", roles_on={orgs["Acme"]: Role.AUDITOR, orgs["Bolt"]: Role.AUDITOR}
    )

    assert client_as(auditor).get(reverse("all_costs")).status_code == 403


def test_the_switcher_opens_all_organizations_and_one_again(orgs, client_as, fin_both):
    client = client_as(fin_both)

    from_costs = client.post(reverse("switch"), {"org": "all"}, HTTP_REFERER="/costs/?preset=7d")
    assert from_costs["Location"] == reverse("all_costs")
    from_members = client.post(reverse("switch"), {"org": "all"}, HTTP_REFERER="/members/")
    assert from_members["Location"] == reverse("all_overview")
    page = client.get(reverse("all_costs")).content.decode()
    assert '<option value="all" selected>All organizations</option>' in page
    assert f'<input type="hidden" name="next" value="{reverse("costs")}">' in page
    back = client.post(
        reverse("switch"), {"org": orgs["Bolt"].pk, "next": reverse("costs")}
    )  # as the page's switcher sends it
    assert back["Location"] == reverse("costs")
    assert client.session[SESSION_KEY] == orgs["Bolt"].pk


def test_the_sidebar_says_which_pages_are_for_one_organization(orgs, client_as, fin_both):
    body = client_as(fin_both).get(reverse("all_costs")).content.decode()

    assert 'aria-labelledby="nav-all-heading"' in body
    assert f'href="{reverse("all_costs")}" aria-current="page"' in body
    assert "Acme only</p>" in body  # the pages after it are Acme's (the session's organization)


# --- Costs ---------------------------------------------------------------------------------------


def test_it_totals_each_organization(orgs, client_as, fin_both):
    response = client_as(fin_both).get(reverse("all_costs"), _period())

    assert response.status_code == 200
    expected = _expected(lambda r: r[0])
    shown = {row["org"].name: row["amount"] for row in response.context["org_rows"]}
    assert shown == expected
    totals = response.context["currencies"]
    assert [(t.currency, t.total) for t in totals] == [("usd", sum(expected.values()))]
    previous = {row["org"].name: row["previous"] for row in response.context["org_rows"]}
    assert previous["Acme"] == sum(Decimal(r[4]) for r in ROWS if r[0] == "Acme" and r[1] < D1)
    body = response.content.decode()
    for amount in expected.values():
        assert f"${_cents(amount)}" in body


def test_it_groups_by_organization_and_project(orgs, client_as, fin_both):
    response = client_as(fin_both).get(reverse("all_costs"), _period(group_by="project_id"))

    expected = _expected(lambda r: (r[0], r[3]))
    rows = response.context["table"]
    assert {(r["org"].name, r["cells"][1]["value"]): r["amount"] for r in rows} == expected
    labels = {(r["org"].name, r["cells"][1]["value"]): r["cells"][1]["label"] for r in rows}
    # proj_a is "Search" in Acme and "Bolt search" in Bolt: a name is looked up in its own org.
    assert labels[("Acme", "proj_a")] == "Search"
    assert labels[("Bolt", "proj_a")] == "Bolt search"
    assert labels[("Bolt", "")] == "(no project)"
    assert sum(r["share"] for r in rows) == pytest.approx(100)
    assert [r["amount"] for r in rows] == sorted(expected.values(), reverse=True)


def test_it_groups_by_organization_and_line_item_with_quantities(orgs, client_as, fin_both):
    response = client_as(fin_both).get(reverse("all_costs"), _period(group_by="line_item"))

    rows = response.context["table"]
    amounts = {(r["org"].name, r["cells"][1]["value"]): r["amount"] for r in rows}
    assert amounts == _expected(lambda r: (r[0], r[2]))
    quantities = defaultdict(int)
    for org, day, item, _, _, quantity in ROWS:
        if D1 <= day < TODAY:
            quantities[(org, item)] += quantity
    assert {(r["org"].name, r["cells"][1]["value"]): r["quantity"] for r in rows} == quantities
    assert response.context["show_quantity"]


def test_it_groups_by_organization_and_model(orgs, client_as, fin_both):
    response = client_as(fin_both).get(reverse("all_costs"), _period(group_by="model"))

    rows = response.context["table"]
    amounts = {(r["org"].name, r["cells"][1]["value"]): r["amount"] for r in rows}
    assert amounts == _expected(lambda r: (r[0], r[2].split(",")[0]))


def test_a_row_opens_that_organizations_costs_narrowed_to_it(orgs, client_as, fin_both):
    client = client_as(fin_both)
    response = client.get(reverse("all_costs"), _period(group_by="project_id"))
    row = next(
        r for r in response.context["table"] if (r["org"].name, r["cells"][1]["value"]) == (
            "Bolt", "proj_a")
    )  # fmt: skip

    opened = client.post(reverse("orgadmin:switch_org"), row["link"], follow=True)

    assert opened.wsgi_request.path == reverse("costs")
    assert opened.context["org"] == orgs["Bolt"]
    assert opened.context["total"] == _expected(lambda r: (r[0], r[3]))[("Bolt", "proj_a")]


def test_it_keeps_currencies_apart(orgs, client_as):
    euro = OrganizationFactory(name="Euro")
    for day, amount in ((D1, "3.00"), (D3, "1.50")):
        _add(euro, day, "gpt-5, input", "proj_e", amount, 10, currency="eur")
    person = UserFactory(
        username="fin-three", roles_on={o: Role.FINANCE for o in (*orgs.values(), euro)}
    )

    response = client_as(person).get(reverse("all_costs"), _period())

    usd = sum(_expected(lambda r: r[0]).values())
    eur = Decimal("4.50")
    totals = {t.currency: t.total for t in response.context["currencies"]}
    assert totals == {"usd": usd, "eur": eur}
    assert [f["currency"] for f in response.context["figures"]] == ["usd", "eur"]
    euro_row = next(r for r in response.context["org_rows"] if r["org"] == euro)
    assert (euro_row["currency"], euro_row["share"]) == ("eur", 100)
    body = response.content.decode()
    assert f"€{_cents(eur)}" in body
    assert _cents(usd + eur) not in body  # never one sum of two currencies


def test_an_organization_without_costs_is_listed_once(orgs, client_as):
    quiet = OrganizationFactory(name="Quiet")
    person = UserFactory(
        username="fin-quiet", roles_on={o: Role.FINANCE for o in (*orgs.values(), quiet)}
    )

    rows = client_as(person).get(reverse("all_costs"), _period()).context["org_rows"]

    assert [r["amount"] for r in rows if r["org"] == quiet] == [None]


def test_it_answers_htmx_with_the_body_and_pushes_the_canonical_url(orgs, client_as, fin_both):
    response = client_as(fin_both).get(
        reverse("all_costs"), _period(group_by="model", tz="Asia/Tokyo"), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="costs-body"')
    assert "<html" not in body
    pushed = response["HX-Push-Url"]
    assert pushed.startswith(reverse("all_costs") + "?start=")
    assert "group_by=model" in pushed
    assert "tz=" not in pushed  # UTC days, whatever was asked
    assert 'name="tz"' not in body  # and no timezone to pick


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"group_by": "api_key_id"}, "Can&#x27;t group by “api_key_id”"),
        ({"group_by": "project_id,model"}, "Group by one of"),
        ({"start": "2025-03-10", "end": "2025-03-01"}, "The end date must be after the start"),
    ],
)
def test_it_explains_bad_filters_beside_the_field(orgs, client_as, fin_both, params, message):
    client = client_as(fin_both)

    page = client.get(reverse("all_costs"), params)
    export = client.get(reverse("all_costs_export", kwargs={"fmt": "csv"}), params)

    assert page.status_code == 200
    assert message in page.content.decode()
    assert export.status_code == 400


def test_it_says_when_a_key_may_not_read_costs(orgs, client_as, fin_both):
    orgs["Bolt"].key_limits = {"costs": "none"}
    orgs["Bolt"].save(update_fields=["key_limits"])

    for name in ("all_costs", "all_overview"):
        body = client_as(fin_both).get(reverse(name)).content.decode()
        assert body.count("Costs not permitted by its admin key") == 1


# --- exports -------------------------------------------------------------------------------------


def test_this_table_exports_with_an_organization_column(orgs, client_as, fin_both):
    response = client_as(fin_both).get(
        reverse("all_costs_export", kwargs={"fmt": "csv"}),
        _period(group_by="project_id", rows="table", precision="full"),
    )

    rows = _csv(response)
    assert rows[0] == [
        "organization", "provider", "project_id", "project_name", "amount", "currency",
        "share_percent",
    ]  # fmt: skip
    assert {r[1] for r in rows[1:]} == {"OpenAI"}
    found = {(r[0], r[2]): (Decimal(r[4]), r[3]) for r in rows[1:]}
    expected = _expected(lambda r: (r[0], r[3]))
    assert {k: v[0] for k, v in found.items()} == expected
    assert found[("Bolt", "proj_a")][1] == "Bolt search"
    assert "costs_all_organizations_table_" in response["Content-Disposition"]


def test_daily_rows_export_with_an_organization_column(orgs, client_as, fin_both):
    response = client_as(fin_both).get(
        reverse("all_costs_export", kwargs={"fmt": "csv"}),
        _period(group_by="line_item", rows="daily", precision="full"),
    )

    rows = _csv(response)
    assert rows[0][:2] == ["date", "organization"]
    col = {name: i for i, name in enumerate(rows[0])}
    sums: dict = defaultdict(Decimal)
    for row in rows[1:]:
        sums[(row[col["organization"]], row[col["line_item"]])] += Decimal(row[col["amount"]])
    assert sums == _expected(lambda r: (r[0], r[2]))


def test_json_exports_carry_the_organization_too(orgs, client_as, fin_both):
    client = client_as(fin_both)
    url = reverse("all_costs_export", kwargs={"fmt": "json"})

    table = _json(client.get(url, _period(rows="table", precision="full")))
    daily = _json(client.get(url, _period(group_by="project_id", rows="daily")))

    assert {r["organization"]: r["amount"] for r in table} == _expected(lambda r: r[0])
    assert {r["organization"] for r in daily} == {"Acme", "Bolt"}
    assert all(r["currency"] == "usd" for r in daily)


def test_every_csv_cell_stays_inert_in_a_spreadsheet(orgs, client_as):
    hostile = OrganizationFactory(name="=HYPERLINK(1)")
    Project.objects.create(org=hostile, openai_id="proj_h", name="+cmd|' /C calc'!A0")
    _add(hostile, D1, "@SUM(1)", "proj_h", "1.00", 1)
    person = UserFactory(
        username="fin-hostile", roles_on={o: Role.FINANCE for o in (*orgs.values(), hostile)}
    )
    url = reverse("all_costs_export", kwargs={"fmt": "csv"})

    for rows in ("table", "daily"):
        response = client_as(person).get(url, _period(group_by="project_id", rows=rows))
        cells = [cell for row in _csv(response)[1:] for cell in row]
        assert "'=HYPERLINK(1)" in cells
        assert "'+cmd|' /C calc'!A0" in cells
        assert not any(c[:1] in ("=", "+", "@") for c in cells)


# --- Overview ------------------------------------------------------------------------------------


def test_the_overview_totals_each_organization_this_month(orgs, client_as, fin_both):
    response = client_as(fin_both).get(reverse("all_overview"))

    assert response.status_code == 200
    month_start = TODAY.replace(day=1)
    expected: dict = defaultdict(Decimal)
    for org, day, *_, amount, _ in ROWS:
        if month_start <= day <= TODAY:
            expected[org] += Decimal(amount)
    shown = {r["org"].name: r["spend"].month_to_date for r in response.context["org_rows"]}
    assert shown == {name: expected.get(name, Decimal(0)) for name in ("Acme", "Bolt")}
    totals = response.context["totals"]
    assert [(t.currency, t.month_to_date) for t in totals] == [("usd", sum(shown.values()))]
    # Each organization's forecast, added up, and so are their ranges.
    forecasts = [r["spend"].forecast for r in response.context["org_rows"]]
    assert totals[0].projected == sum(f.expected for f in forecasts)
    assert (totals[0].projected_low, totals[0].projected_high) == (
        sum(f.low for f in forecasts),
        sum(f.high for f in forecasts),
    )
    top = response.context["top_projects"]
    assert top[0]["label"] == "Bolt search"  # the biggest project of the last 30 days, named


# --- queries -------------------------------------------------------------------------------------


def test_it_pins_the_queries_whatever_the_number_of_organizations(
    orgs, client_as, django_assert_num_queries
):
    more = [OrganizationFactory(name=f"More {n}") for n in range(3)]
    for org in more:
        _add(org, D2, "gpt-5, input", "proj_m", "1.00", 1)
    few = UserFactory(username="fin-few", roles_on={o: Role.FINANCE for o in orgs.values()})
    many = UserFactory(
        username="fin-many", roles_on={o: Role.FINANCE for o in (*orgs.values(), *more)}
    )
    for person in (few, many):
        client = client_as(person)
        client.get(reverse("all_costs"))  # warm the session
        # Every page: session, user, role grants, connections: 4. Then costs: rows, the period
        # before, names (grouped by project), when each organization last synced.
        with django_assert_num_queries(8):
            client.get(reverse("all_costs"), _period(group_by="project_id"))
        # The table export: rows, the period before, names.
        with django_assert_num_queries(7):
            client.get(
                reverse("all_costs_export", kwargs={"fmt": "csv"}),
                _period(group_by="project_id", rows="table"),
            )
        # Overview: each organization's month, when it last synced, top projects, their names.
        with django_assert_num_queries(8):
            client.get(reverse("all_overview"))
