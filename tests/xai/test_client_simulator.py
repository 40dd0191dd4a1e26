"""The xAI client end to end against the in-process simulator: what it reads is what the
simulator holds, in every shape the simulator mixes, and what it changes is changed there."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from orgadmin.client import OrgAPIError, install_transport
from orgadmin.models import Organization
from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.acls import areas_of_management_key
from orgadmin.xai.client import XAIClient, xai_client
from orgadmin.xai.simulator import XAISimulatorApp
from tests.xai.simulator_support import BASE_URL, KEY, NOW_DT, make_app


def client_of(app: XAISimulatorApp, key: str = KEY) -> XAIClient:
    return XAIClient(BASE_URL, key, transport=httpx.WSGITransport(app=app))


@pytest.fixture
def app() -> XAISimulatorApp:
    return make_app()


@pytest.fixture
def xai(app):
    with client_of(app) as client:
        yield client


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def test_it_finds_its_team_from_the_key(app, xai):
    key = xai.validate_key()
    assert key.scope == "SCOPE_TEAM"
    assert key.scope_id == app.team_id
    assert key.request_id


def test_it_lists_every_key_as_the_simulator_holds_it_across_pages(app, xai):
    keys = xai.list_api_keys(app.team_id, page_size=3)
    held = app.store.keys
    assert sorted(k.api_key_id for k in keys) == sorted(held)
    for key in keys:  # in `aclStrings` or the docs' `acl_strings`, "false" or false
        assert key.acl_strings == list(held[key.api_key_id].acls)
        assert key.disabled is held[key.api_key_id].disabled
        assert key.tpm == held[key.api_key_id].tpm
    assert any(k.tpm for k in keys)


def test_it_creates_changes_rotates_and_deletes_a_key(app, xai):
    team = app.team_id
    created = xai.create_api_key(
        team, name="Nightly jobs", acls=["api-key:endpoint:chat"], qps=2, tpm=50_000
    )
    assert app.store.secret_valid(created.api_key)
    assert (created.name, created.tpm, created.acl_strings) == (
        "Nightly jobs",
        50_000,
        ["api-key:endpoint:chat"],
    )

    changed = xai.update_api_key(
        created.api_key_id, {"tpm": 80_000, "acls": ["api-key:model:grok-4"]}
    )
    assert (changed.tpm, changed.acl_strings) == (80_000, ["api-key:model:grok-4"])
    assert changed.qps == 2  # not in the mask: kept
    assert xai.set_api_key_disabled(created.api_key_id, True).disabled is True
    assert xai.set_api_key_disabled(created.api_key_id, False).disabled is False

    rotated = xai.rotate_api_key(
        created.api_key_id, old_secret_expire_time=NOW_DT + timedelta(hours=1)
    )
    assert rotated.api_key != created.api_key
    assert app.store.secret_valid(rotated.api_key)
    assert app.store.secret_valid(created.api_key)  # until its expiry
    assert set(xai.key_propagation(created.api_key_id)) == {
        "us-east-1.api.x.ai",
        "us-west-2.api.x.ai",
        "eu-west-1.api.x.ai",
    }

    xai.delete_api_key(created.api_key_id)
    assert created.api_key_id not in {k.api_key_id for k in xai.list_api_keys(team)}
    with pytest.raises(OrgAPIError) as caught:
        xai.delete_api_key(created.api_key_id)
    assert caught.value.status == 404

    descriptions = [e.description for page in xai.audit_events(team) for e in page]
    for done in ("Created", "Rotated", "Deleted"):
        assert f'{done} API key "Nightly jobs"' in descriptions


def test_it_reads_usage_to_the_cent_of_what_the_simulator_billed(app, xai):
    end = NOW_DT.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    usage = xai.usage(app.team_id, start=start, end=end)
    total = sum(v for s in usage.time_series for p in s.data_points for v in p.values)
    assert total == Decimal(app.store.usage_cents(start.date(), end.date())) / 100
    assert total > 0
    assert not usage.limit_reached
    assert all(len(s.group) == 2 for s in usage.time_series)  # description, api key


def test_it_reads_one_keys_usage_with_a_filter(app, xai):
    end = NOW_DT.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    key_id = next(iter(app.store.keys))
    usage = xai.usage(
        app.team_id,
        start=start,
        end=end,
        group_by=("description",),
        filters=(f"api_key_id:{key_id}",),
    )
    total = sum(v for s in usage.time_series for p in s.data_points for v in p.values)
    expected = app.store.usage_cents(start.date(), end.date(), api_key_id=key_id)
    assert total == Decimal(expected) / 100


def test_it_pages_through_every_audit_event_once(app, xai):
    pages = list(xai.audit_events(app.team_id, page_size=40))
    ids = [e.event_id for page in pages for e in page]
    assert len(pages) > 1
    assert len(ids) == len(set(ids)) == len(app.store.audit)
    times = [e.event_time for page in pages for e in page]
    assert times == sorted(times)


def test_it_reads_the_billing_as_the_simulator_holds_it(app, xai):
    team = app.team_id
    purchases = len(app.store.top_ups())  # the scenario's past ones
    balance = xai.prepaid_balance(team)
    assert balance.total.val == app.store.balance_cents()
    invoices = xai.invoices(team)
    assert invoices
    for invoice in invoices:
        assert invoice.total.val == invoice.subtotal.val + invoice.tax.val
    assert xai.invoice_preview(team).billing_cycle.year == NOW_DT.year
    assert xai.billing_info(team).request_id

    limits = xai.set_soft_spending_limit(team, 12_345)
    assert limits.soft_sl.usd == Decimal("123.45")
    assert xai.spending_limits(team).soft_sl.val == 12_345
    assert len(app.store.top_ups()) == purchases  # nothing here ever buys credits


def test_it_lists_what_a_key_can_be_granted(app, xai):
    endpoints = xai.list_endpoints(app.team_id)
    models = xai.list_models(app.team_id)
    assert "api-key:endpoint:chat" in {e.acl for e in endpoints}
    assert "grok-4" in {m.name for m in models}
    assert all(m.cluster_rate_limits for m in models)


def test_a_key_limited_to_billing_is_refused_the_keys_and_says_so():
    app = make_app(management_keys={KEY: ["management-api:billing:read"]})
    with client_of(app) as xai:
        limits = areas_of_management_key(xai.validate_key().acls)
        with pytest.raises(OrgAPIError) as caught:
            xai.list_api_keys(app.team_id)
        xai.prepaid_balance(app.team_id)
    assert limits["keys"] == "none"
    error = caught.value
    assert (error.status, error.area, error.permission_denied) == (403, "keys", True)
    assert error.request_id


def test_a_wrong_key_is_rejected_with_the_documented_words(app):
    with client_of(app, key="xai-mgmt-not-this-one") as xai, pytest.raises(OrgAPIError) as caught:
        xai.validate_key()
    assert "Invalid bearer token" in caught.value.message
    assert caught.value.status == 401


def test_it_rides_out_the_simulators_faults(waits):
    faults = FaultConfig(script=["429", "503", "drop"], retry_after=3)
    app = make_app(faults=faults)
    with client_of(app) as xai:
        assert xai.validate_key().scope_id == app.team_id
    assert waits[0] == 3.0  # the 429's Retry-After
    assert len(waits) == 3


def test_a_connection_reaches_the_mounted_simulator(app):
    org = Organization(name="Team", provider=Organization.Provider.XAI, base_url=BASE_URL)
    org.set_admin_key(KEY)
    with (
        install_transport(BASE_URL, httpx.WSGITransport(app=app)),
        xai_client(org) as xai,
    ):
        assert xai.validate_key().scope_id == app.team_id
