"""An xAI team's Billing page against the in-process simulator: the month so far, the invoices,
the prepaid credits and the spending limits equal the simulator's to the cent; an Admin sets the
soft limit (after a recent sign-in, with the API's request id in Activity); a key that may only
read billing hides the form, one that may not read it gets a note; the API's 5xx and 429 are
shown readably; and no page ever buys credits."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.models import ActionLog, Organization
from orgadmin.services.connections import connection_verify
from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY, XAISimulatorApp, create_app
from orgadmin.xai.simulator.routing import AUDIT_READ, BILLING_READ, KEYS_READ, KEYS_WRITE
from orgadmin.xai.simulator.store import tax_of
from tests.factories import OrganizationFactory, UserFactory
from tests.orgadmin.test_step_up import REAUTH, signed_in_long_ago

BASE = "http://xai-simulator.test"
PAGE = reverse("orgadmin:billing")
SOFT = reverse("orgadmin:billing_soft_limit")
EXPORT = reverse("orgadmin:billing_export")
HX = {"HX-Request": "true"}
TOP_UP = "/prepaid/top-up"


class Recorder:
    """The simulator, with every request it was sent written down (method, path)."""

    def __init__(self, app: XAISimulatorApp) -> None:
        self.app = app
        self.calls: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        self.calls.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)


def usd(cents: int) -> str:
    """Cents as the page writes them: 123456 → "$1,234.56"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The client's waits between attempts, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def mount(app: XAISimulatorApp) -> Recorder:
    recorder = Recorder(app)
    install_transport(BASE, httpx.WSGITransport(app=recorder))
    return recorder


@pytest.fixture
def xai(waits) -> Iterator[Recorder]:
    """The demo team's simulator at the real time (the page's "last 12 months" is the real
    clock's), mounted in-process at BASE, every request recorded."""
    now = float(int(time.time()) // 60 * 60)
    app = create_app(
        scenario="demo", seed=0, management_keys=[TEST_MANAGEMENT_KEY], now=lambda: now
    )
    recorder = Recorder(app)
    with install_transport(BASE, httpx.WSGITransport(app=recorder)):
        yield recorder


@pytest.fixture
def store(xai):
    return xai.app.store


@pytest.fixture
def team(db, xai) -> Organization:
    """A verified connection to the simulator's demo team."""
    return OrganizationFactory(
        name="Demo Robotics (xAI)",
        provider="xai",
        base_url=BASE,
        admin_key=TEST_MANAGEMENT_KEY,
        account_id=xai.app.team_id,
    )


@pytest.fixture
def as_admin(client_as, admin, team) -> Client:
    return client_as(admin)


@pytest.fixture
def as_finance(client_as, finance, team) -> Client:
    return client_as(finance)


def restricted(acls: tuple[str, ...], waits) -> Iterator[tuple[Organization, Recorder]]:
    """A team whose management key has only `acls`, its areas learnt as Connections does."""
    now = float(int(time.time()) // 60 * 60)
    app = create_app(
        scenario="demo", seed=0, management_keys={TEST_MANAGEMENT_KEY: acls}, now=lambda: now
    )
    recorder = Recorder(app)
    with install_transport(BASE, httpx.WSGITransport(app=recorder)):
        org = OrganizationFactory(
            name="Demo (restricted key)",
            provider="xai",
            base_url=BASE,
            admin_key=TEST_MANAGEMENT_KEY,
            account_id=app.team_id,
        )
        connection_verify(org=org, areas=True)
        org.refresh_from_db()
        yield org, recorder


# --- what the page shows --------------------------------------------------------------------


def test_it_shows_the_month_so_far_as_the_simulator_has_it_to_the_cent(as_finance, store):
    response = as_finance.get(PAGE)
    assert response.status_code == 200
    month = response.context["page"].month
    today = store.now().date()
    lines = store.lines_between(today.replace(day=1), today + timedelta(days=1))
    before = sum(line.amount for line in lines)
    after = before + tax_of(before)
    credits = max(store.balance_cents(), 0)

    assert month.cycle == today.replace(day=1)
    assert month.before_vat == Decimal(before) / 100
    assert month.vat == Decimal(tax_of(before)) / 100
    assert month.after_vat == Decimal(after) / 100
    assert month.prepaid_credits == Decimal(credits) / 100
    assert month.prepaid_used == Decimal(min(credits, after)) / 100
    assert month.effective_limit == Decimal(store.effective_limit()) / 100
    assert all(isinstance(x, Decimal) for x in (month.before_vat, month.vat, month.after_vat))
    # Every billed item, its units and amount; the lines add up to the amount before VAT.
    assert {(ln.description, ln.units, ln.amount) for ln in month.lines} == {
        (ln.description, ln.num_units, Decimal(ln.amount) / 100) for ln in lines
    }
    assert sum(ln.amount for ln in month.lines) == month.before_vat
    html = response.content.decode()
    for cents in (before, tax_of(before), after, store.effective_limit()):
        assert usd(cents) in html
    assert today.strftime("Billing cycle %B %Y") in html
    # Each line's price as a person reads it: a token's per million tokens (grok-4 input tokens
    # are billed every day), an image's per image (once the month has one: not every day has).
    assert "$3.00 per 1M tokens" in html
    for line in month.lines:
        assert line.unit_price_label in html
    images = [ln for ln in month.lines if ln.unit_price_label.endswith(" per image")]
    assert all(ln.unit_price_label == "$0.07 per image" for ln in images)


def test_it_lists_a_years_invoices_with_status_lines_tax_and_total(as_finance, store):
    response = as_finance.get(PAGE)
    invoices = response.context["page"].invoices
    today = store.now().date()
    first = (today.year * 12 + today.month - 1) - 11
    expected = [i for i in store.invoices if (i.year * 12 + i.month - 1) >= first]
    assert expected
    assert len(invoices.rows) == len(expected)
    by_number = {row.number: row for row in invoices.rows}
    html = response.content.decode()
    for invoice in expected:
        row = by_number[invoice.invoice_number]
        assert (row.subtotal, row.tax, row.total) == (
            Decimal(invoice.subtotal) / 100,
            Decimal(invoice.tax) / 100,
            Decimal(invoice.total) / 100,
        )
        assert [ln.amount for ln in row.lines] == [Decimal(ln.amount) / 100 for ln in invoice.lines]
        assert sum(ln.amount for ln in row.lines) == row.subtotal
        assert invoice.invoice_number in html
        assert usd(invoice.total) in html
    # The statuses in words, never the API's enum.
    statuses = {row.status for row in invoices.rows}
    assert {"PAID", "PENDING"} <= statuses
    assert "Paid" in html
    assert "Pending: not charged yet" in html
    assert "WILL_NEVER_BE_CHARGED" not in html
    assert ">PENDING<" not in html
    # Newest first.
    dates = [row.created for row in invoices.rows]
    assert dates == sorted(dates, reverse=True)


def test_it_shows_one_billing_cycle_and_refuses_a_wrong_one(as_finance, store):
    invoice = next(i for i in store.invoices if i.flavour == "monthly" and i.status == "PAID")
    cycle = f"{invoice.year}-{invoice.month:02d}"
    response = as_finance.get(PAGE, {"cycle": cycle}, headers=HX)
    rows = response.context["page"].invoices.rows
    assert {
        (i.invoice_number)
        for i in store.invoices
        if (i.year, i.month)
        == (
            invoice.year,
            invoice.month,
        )
    } == {row.number for row in rows}
    assert f'value="{cycle}"' in response.content.decode()
    # htmx gets the live part only.
    assert "<html" not in response.content.decode()

    wrong = as_finance.get(PAGE, {"cycle": "2025-13"})
    assert wrong.status_code == 200
    assert "Pick a month as YYYY-MM" in wrong.content.decode()
    assert wrong.context["page"].invoices.cycle is None  # the last year instead


def test_it_shows_the_prepaid_credit_and_its_changes_as_their_effect(as_finance, store):
    response = as_finance.get(PAGE)
    prepaid = response.context["page"].prepaid
    assert prepaid.total == Decimal(store.balance_cents()) / 100
    assert len(prepaid.changes) == len(store.balance_changes)
    purchases = [c for c in prepaid.changes if c.origin == "PURCHASE"]
    spends = [c for c in prepaid.changes if c.origin == "SPEND"]
    assert purchases
    assert spends
    # The API signs a purchase negative; the page shows it adding credit.
    assert all(c.amount < 0 < c.credit for c in purchases)
    assert all(c.credit < 0 < c.amount for c in spends)
    assert sum(c.credit for c in prepaid.changes) == prepaid.total
    html = response.content.decode()
    assert "Credits purchased" in html
    assert "Spent on usage" in html
    assert f"+{usd(int(-purchases[0].amount * 100))}" in html
    assert "a purchase adds credit" in html
    assert "never buys" in html


def test_it_shows_the_spending_limits(as_finance, store):
    limits = as_finance.get(PAGE).context["page"].limits
    assert limits.soft == Decimal(store.soft_limit) / 100
    assert limits.hard_auto == Decimal(store.hard_limit_auto) / 100
    assert limits.hard_override is None
    assert limits.effective_hard == Decimal(store.effective_hard_limit()) / 100
    assert limits.effective == Decimal(store.effective_limit()) / 100


def test_finance_sees_the_limits_but_no_form(as_finance):
    html = as_finance.get(PAGE).content.decode()
    assert "Spending limits" in html
    assert 'id="soft-limit-form"' not in html
    assert "Only an Admin can change the soft limit." in html


def test_an_auditor_may_not_see_billing(client_as, auditor, team):
    assert client_as(auditor).get(PAGE).status_code == 403


def test_the_page_is_in_the_navigation_of_an_xai_team_only(as_finance, team):
    html = as_finance.get(PAGE).content.decode()
    assert f'href="{PAGE}"' in html
    openai = OrganizationFactory(name="An OpenAI org")
    Organization.objects.filter(pk=team.pk).delete()
    response = as_finance.get(PAGE)
    assert response.status_code == 404  # the middleware's "managed in the console" note
    assert openai.name in response.content.decode()


# --- setting the soft limit ---------------------------------------------------------------


def test_an_admin_sets_the_soft_limit_and_activity_has_the_line(as_admin, store, xai):
    response = as_admin.post(SOFT, {"amount": "$1,234.50"}, headers=HX)
    assert response.status_code == 200
    assert store.soft_limit == 123_450
    assert ("POST", f"/v1/billing/teams/{store.team_id}/postpaid/spending-limits") in xai.calls
    html = response.content.decode()
    assert "Set the soft spending limit to $1,234.50." in html
    assert response.context["page"].limits.soft == Decimal("1234.50")
    line = ActionLog.objects.first()
    assert (line.action, line.outcome) == ("spending_limit.soft.update", "ok")
    assert line.request_id
    assert line.summary == (
        "Set the xAI team's soft spending limit to $1,234.50 a month (was $2,500.00)"
    )
    activity = as_admin.get(reverse("orgadmin:activity")).content.decode()
    assert "soft spending limit to $1,234.50" in activity
    assert line.request_id in activity
    # xAI's own audit log has it too.
    assert store.audit[-1].description.startswith("Set the monthly soft spending limit")


def test_zero_means_prepaid_only(as_admin, store):
    as_admin.post(SOFT, {"amount": "0"})
    assert store.soft_limit == 0
    assert "prepaid credits only" in ActionLog.objects.first().summary
    html = as_admin.get(PAGE).content.decode()
    assert "prepaid credits only" in html


def test_the_form_says_what_zero_means_and_asks_to_confirm(as_admin):
    html = as_admin.get(PAGE).content.decode()
    assert 'id="soft-limit-form"' in html
    assert "0 means prepaid credits only" in html
    assert "hx-confirm=\"Change the team's soft spending limit at xAI?" in html


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("-5", "Enter an amount of $0 or more."),
        ("12.345", "Use at most two decimals"),
        ("twelve", "Enter an amount in dollars"),
        ("", "This field is required."),
        ("5000.01", "At most $5,000.00, the team's effective hard limit"),
    ],
)
def test_it_refuses_a_bad_amount_and_says_why(as_admin, store, xai, typed, says):
    before = store.soft_limit
    response = as_admin.post(SOFT, {"amount": typed}, headers=HX)
    assert response.status_code == 200
    assert says in unescape(response.content.decode())
    assert store.soft_limit == before
    assert not any(m == "POST" for m, _ in xai.calls)
    # Without htmx: back to the page with the reason.
    plain = as_admin.post(SOFT, {"amount": typed}, follow=True)
    assert says in unescape(plain.content.decode())


def test_the_hard_limit_itself_is_allowed(as_admin, store):
    as_admin.post(SOFT, {"amount": "5,000"})
    assert store.soft_limit == store.effective_hard_limit() == 500_000


def test_finance_and_auditors_may_not_set_it(client_as, finance, auditor, store):
    for person in (finance, auditor):
        assert client_as(person).post(SOFT, {"amount": "10"}).status_code == 403
    assert store.soft_limit == 250_000


def test_it_asks_for_a_recent_sign_in_first(as_admin, store, settings):
    signed_in_long_ago(as_admin, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)
    response = as_admin.post(SOFT, {"amount": "10"})
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)
    assert store.soft_limit == 250_000


def test_a_refusal_is_shown_with_its_request_id_and_logged(as_admin, store, xai, settings):
    settings.XAI_MAX_ATTEMPTS = 2
    xai.app.faults = FaultConfig(script=["ok", "503", "503"])  # the limits read, then the POST
    response = as_admin.post(SOFT, {"amount": "100"}, headers=HX)
    html = response.content.decode()
    assert "xAI refused to set the soft spending limit" in html
    assert "HTTP 503" in html
    line = ActionLog.objects.first()
    assert (line.action, line.outcome) == ("spending_limit.soft.update", "error")
    assert line.request_id
    assert line.request_id in html
    assert store.soft_limit == 250_000


# --- what a management key may do ---------------------------------------------------------


@pytest.fixture
def read_only(waits) -> Iterator[tuple[Organization, Recorder]]:
    yield from restricted((KEYS_READ, BILLING_READ, AUDIT_READ), waits)


def test_a_key_that_may_only_read_billing_hides_the_form_and_says_why(client_as, admin, read_only):
    org, recorder = read_only
    assert org.key_may_read("billing")
    assert not org.key_may_write("billing")
    response = client_as(admin).get(PAGE)
    html = response.content.decode()
    assert response.context["page"].limits is not None  # still shown
    assert 'id="soft-limit-form"' not in html
    assert "management key may only read billing" in html
    # A POST anyway is refused by xAI, shown and logged; nothing changed.
    client_as(admin).post(SOFT, {"amount": "10"})
    assert recorder.app.store.soft_limit == 250_000


def test_a_write_refused_for_permissions_hides_the_form_from_then_on(client_as, admin, read_only):
    org, _recorder = read_only
    Organization.objects.filter(pk=org.pk).update(key_limits={})  # not learnt yet
    response = client_as(admin).post(SOFT, {"amount": "10"}, headers=HX)
    html = response.content.decode()
    assert "xAI refused to set the soft spending limit" in html
    assert "lacks the ACL management-api:billing:write" in html
    assert 'id="soft-limit-form"' not in html
    org.refresh_from_db()
    assert org.key_may_read("billing")
    assert not org.key_may_write("billing")
    assert ActionLog.objects.first().outcome == "error"


def test_a_key_that_may_not_read_billing_gets_a_note_not_an_error(client_as, finance, waits):
    for org, recorder in restricted((KEYS_READ, KEYS_WRITE, AUDIT_READ), waits):
        assert not org.key_may_read("billing")
        response = client_as(finance).get(PAGE)
        assert response.status_code == 200
        assert "Not permitted by this key." in response.content.decode()
        assert not any("/v1/billing/" in path for _, path in recorder.calls)


def test_a_refused_read_marks_the_area_and_shows_the_note(client_as, finance, waits):
    for org, recorder in restricted((KEYS_READ, AUDIT_READ), waits):
        Organization.objects.filter(pk=org.pk).update(key_limits={})  # not learnt yet
        response = client_as(finance).get(PAGE)
        assert response.status_code == 200
        assert "Not permitted by this key." in response.content.decode()
        org.refresh_from_db()
        assert not org.key_may_read("billing")
        # One refusal was enough: the other sections weren't asked.
        assert len([p for _, p in recorder.calls if "/v1/billing/" in p]) == 1


# --- the API's failures -------------------------------------------------------------------


def test_a_5xx_is_shown_readably_with_its_request_id(as_finance, xai, settings):
    settings.XAI_MAX_ATTEMPTS = 1
    xai.app.faults = FaultConfig(script=["503", "500"])  # the preview, then the limits
    response = as_finance.get(PAGE)
    assert response.status_code == 200
    page = response.context["page"]
    assert set(page.errors) == {"month", "limits"}
    html = response.content.decode()
    assert "This month so far" in html
    assert "could not be read" in html
    assert "HTTP 503" in html
    assert "HTTP 500" in html
    for error in page.errors.values():
        assert error.request_id
        assert error.request_id in html
    # The other sections still show.
    assert page.invoices is not None
    assert page.prepaid is not None


def test_a_429_is_waited_out_and_the_page_shows_the_figures(as_finance, xai, waits):
    xai.app.faults = FaultConfig(script=["429", "429"], retry_after=2)
    response = as_finance.get(PAGE)
    page = response.context["page"]
    assert page.errors == {}
    assert page.month is not None
    assert waits[:2] == [2.0, 2.0]  # Retry-After honoured


def test_a_429_that_lasts_is_shown_with_when_to_try_again(as_finance, xai, settings):
    settings.XAI_MAX_ATTEMPTS = 2
    xai.app.faults = FaultConfig(script=["429"] * 2, retry_after=5)
    html = as_finance.get(PAGE).content.decode()
    assert "HTTP 429" in html


def test_a_rejected_key_is_one_message_not_five(as_finance, team, settings):
    team.set_admin_key("xai-mgmt-not-a-key-of-this-team-000000000000")
    team.save()
    response = as_finance.get(PAGE)
    assert response.status_code == 200
    problems = response.context["page"].problems
    assert len(problems) == 1
    assert "rejected the management key" in problems[0][1].message


# --- the export -------------------------------------------------------------------------------


def test_it_exports_the_invoices_as_csv_with_exact_amounts_and_safe_cells(as_finance, store):
    invoice = next(i for i in store.invoices if i.flavour == "monthly" and i.lines)
    invoice.invoice_number = "=HYPERLINK(1)"
    cycle = f"{invoice.year}-{invoice.month:02d}"
    response = as_finance.get(EXPORT, {"cycle": cycle})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="xai-invoices-{cycle}.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    mine = [r for r in rows if r["invoice_id"] == invoice.invoice_id]
    assert len(mine) == len(invoice.lines)
    assert mine[0]["invoice_number"] == "'=HYPERLINK(1)"
    assert mine[0]["total_usd"] == str(Decimal(invoice.total) / 100).rstrip("0").rstrip(".")
    assert sum(Decimal(r["line_amount_usd"]) for r in mine) == Decimal(invoice.subtotal) / 100
    assert {r["line_description"] for r in mine} == {ln.description for ln in invoice.lines}


def test_the_export_goes_back_to_the_page_when_xai_fails(as_finance, xai, settings):
    settings.XAI_MAX_ATTEMPTS = 1
    xai.app.faults = FaultConfig(script=["503"])
    response = as_finance.get(EXPORT, follow=True)
    assert "Nothing exported. xAI refused the invoices" in response.content.decode()


# --- never a top-up -----------------------------------------------------------------------------


def _get_urls() -> list[str]:
    """Every page of the dashboard that takes no argument and answers a GET."""
    from tests.test_access_matrix import ACCESS, url_patterns

    patterns = url_patterns()
    return [
        reverse(name)
        for name, rule in ACCESS.items()
        if "GET" in rule.methods and not patterns[name].pattern.converters
    ]


def test_no_page_ever_buys_credits(client, superuser, team, store, xai):
    """Every page, the billing page's every action included, as a superuser on the xAI team:
    the simulator records a top-up, and none is ever asked for."""
    from tests.conftest import signed_in_just_now

    purchases = list(store.top_ups())
    client.raise_request_exception = False  # another area's page failing is not this test's
    client.force_login(superuser)
    signed_in_just_now(client, superuser)
    for url in _get_urls():
        client.get(url)
        client.get(url, headers=HX)
    client.get(PAGE, {"cycle": datetime.now(UTC).strftime("%Y-%m")})
    client.get(EXPORT)
    client.post(SOFT, {"amount": "100"})
    client.post(SOFT, {"amount": "100"}, headers=HX)
    assert store.soft_limit == 10_000  # the soft limit did reach xAI
    assert not any(path.endswith(TOP_UP) for _, path in xai.calls)
    assert store.top_ups() == purchases


def test_the_simulator_would_record_a_top_up(store, xai):
    """The guard above means something: a top-up does reach the simulator's record."""
    with httpx.Client(transport=httpx.WSGITransport(app=xai), base_url=BASE) as http:
        answer = http.post(
            f"/v1/billing/teams/{store.team_id}{TOP_UP}",
            json={"amount": {"val": 500}},
            headers={"Authorization": f"Bearer {TEST_MANAGEMENT_KEY}"},
        )
    assert answer.status_code == 200
    assert any(path.endswith(TOP_UP) for _, path in xai.calls)
    assert store.top_ups()[-1].amount == -500


def test_nothing_in_the_product_knows_the_top_up_path():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    product = [p for p in (root / "orgadmin").rglob("*.py") if "simulator" not in p.parts]
    product += [*(root / "dashboard").rglob("*.py"), *(root / "templates").rglob("*.html")]
    assert [str(p) for p in product if "top-up" in p.read_text().replace("no top-up", "")] == []


def test_a_finance_person_of_another_team_sees_nothing_of_this_one(client_as, team, xai):
    other = OrganizationFactory(name="Other team", provider="xai", base_url=BASE)
    person = UserFactory(username="fin-other", roles_on={other: Role.FINANCE})
    response = client_as(person).get(PAGE)
    assert "Demo Robotics" not in response.content.decode()
