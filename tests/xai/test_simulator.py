"""What the xAI simulator does, as a client of the Management API would notice it."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator import DEFAULT_MANAGEMENT_KEY
from orgadmin.xai.simulator.routing import BILLING_READ, KEYS_WRITE
from orgadmin.xai.simulator.usage import hour_parts
from tests.xai.simulator_support import NOW, NOW_DT, TEAM, client, make_app, usage_body

KEYS = f"/auth/teams/{TEAM}/api-keys"
BILLING = f"/v1/billing/teams/{TEAM}"


def _create(http, **body) -> dict:
    response = http.post(KEYS, json={"name": "Batch jobs", "acls": ["api-key:model:*"], **body})
    assert response.status_code == 200, response.text
    return response.json()


def _all_keys(http, **params) -> list[dict]:
    keys, token = [], None
    while True:
        page = http.get(KEYS, params={**params, **({"paginationToken": token} if token else {})})
        keys += page.json()["apiKeys"]
        token = page.json().get("paginationToken")
        if not token:
            return keys


def _cents(series: list[dict]) -> int:
    return sum(
        int(Decimal(str(v)) * 100) for s in series for p in s["dataPoints"] for v in p["values"]
    )


# --- keys -----------------------------------------------------------------------------------------


def test_a_created_key_is_listed_and_its_secret_shown_only_once() -> None:
    http = client(make_app())
    created = _create(http, qps=2, tpm="1000")

    listed = {k["apiKeyId"]: k for k in _all_keys(http)}
    updated = http.put(
        f"/auth/api-keys/{created['apiKeyId']}", json={"apiKey": {"qps": 3}, "fieldMask": "qps"}
    )

    assert created["apiKey"].startswith("xai-")
    assert created["redactedApiKey"].endswith(created["apiKey"][-4:])
    assert listed[created["apiKeyId"]]["name"] == "Batch jobs"
    assert "apiKey" not in listed[created["apiKeyId"]]
    assert "apiKey" not in updated.json()
    assert created["apiKey"] not in http.get(KEYS).text + updated.text


def test_a_new_key_has_no_acl_unless_granted() -> None:
    http = client(make_app())
    created = http.post(KEYS, json={"name": "Bare"}).json()
    assert created.get("aclStrings", created.get("acl_strings")) == []


def test_rotation_keeps_the_old_secret_until_it_expires_and_at_most_seven_days() -> None:
    app = make_app()
    http = client(app)
    key = _create(http)
    expire = NOW_DT + timedelta(days=2)

    rotated = http.post(
        f"/auth/api-keys/{key['apiKeyId']}/rotate",
        json={"oldSecretExpireTime": expire.isoformat().replace("+00:00", "Z")},
    ).json()
    too_late = http.post(
        f"/auth/api-keys/{key['apiKeyId']}/rotate",
        json={"oldSecretExpireTime": (NOW_DT + timedelta(days=7, seconds=1)).isoformat()},
    )

    assert rotated["apiKey"] != key["apiKey"]
    assert app.store.secret_valid(rotated["apiKey"], NOW_DT)
    assert app.store.secret_valid(key["apiKey"], expire - timedelta(seconds=1))
    assert not app.store.secret_valid(key["apiKey"], expire)
    assert too_late.status_code == 400


def test_rotation_keeps_the_old_secret_for_a_day_by_default() -> None:
    app = make_app()
    http = client(app)
    key = _create(http)
    http.post(f"/auth/api-keys/{key['apiKeyId']}/rotate")
    assert app.store.secret_valid(key["apiKey"], NOW_DT + timedelta(hours=23))
    assert not app.store.secret_valid(key["apiKey"], NOW_DT + timedelta(hours=24))


def test_a_field_mask_update_changes_only_the_masked_fields() -> None:
    http = client(make_app())
    key = _create(http, qps=5, qpm=100, tpm="2000")

    answer = http.put(
        f"/auth/api-keys/{key['apiKeyId']}",
        json={"apiKey": {"tpm": "9000", "name": "Renamed", "qps": 50}, "fieldMask": "tpm"},
    ).json()

    assert answer["tpm"] == "9000"
    assert (answer["name"], answer["qps"], answer["qpm"]) == ("Batch jobs", 5, 100)


def test_disabling_a_key_through_the_mask_drops_it_from_the_active_listing() -> None:
    http = client(make_app())
    key = _create(http)
    http.put(
        f"/auth/api-keys/{key['apiKeyId']}",
        json={"apiKey": {"disabled": True}, "fieldMask": "disabled"},
    )
    active = {k["apiKeyId"] for k in _all_keys(http, activeOnly="true")}
    every = {k["apiKeyId"]: k for k in _all_keys(http)}
    assert key["apiKeyId"] not in active
    assert every[key["apiKeyId"]]["disabled"] in (True, "true")


def test_an_empty_or_unknown_field_mask_is_refused() -> None:
    http = client(make_app())
    key = _create(http)
    for mask in ("", "lastUsed"):
        body = {"apiKey": {"qps": 1}, "fieldMask": mask}
        assert http.put(f"/auth/api-keys/{key['apiKeyId']}", json=body).status_code == 400


def test_a_deleted_key_is_gone() -> None:
    app = make_app()
    http = client(app)
    key = _create(http)

    assert http.delete(f"/auth/api-keys/{key['apiKeyId']}").json() == {}
    assert http.delete(f"/auth/api-keys/{key['apiKeyId']}").status_code == 404
    assert http.get(f"/auth/api-keys/{key['apiKeyId']}/propagation").status_code == 404
    assert key["apiKeyId"] not in {k["apiKeyId"] for k in _all_keys(http)}
    assert not app.store.secret_valid(key["apiKey"])


def test_paging_visits_every_key_exactly_once_even_across_a_deletion() -> None:
    app = make_app("large")
    http = client(app)
    team_keys = f"/auth/teams/{app.team_id}/api-keys"
    seen, token, pages = [], None, 0
    while True:
        params = {"pageSize": 37, **({"paginationToken": token} if token else {})}
        body = http.get(team_keys, params=params).json()
        seen += [k["apiKeyId"] for k in body["apiKeys"]]
        pages += 1
        if pages == 2:  # someone deletes an already-seen key meanwhile
            http.delete(f"/auth/api-keys/{seen[0]}")
        token = body.get("paginationToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 200
    assert pages == 6


def test_propagation_reaches_every_cluster_within_seconds() -> None:
    clock = [float(NOW)]
    http = client(make_app(now=lambda: clock[0]))
    key = _create(http)
    path = f"/auth/api-keys/{key['apiKeyId']}/propagation"

    at_once = http.get(path).json()["icPropagation"]
    clock[0] += 30
    later = http.get(path).json()["icPropagation"]

    assert not any(at_once.values())
    assert all(later.values())
    assert len(later) == 3


def test_the_validation_names_the_team_and_the_keys_acls() -> None:
    app = make_app(management_keys={"xai-mgmt-reader": [BILLING_READ]})
    body = client(app, "xai-mgmt-reader").get("/auth/management-keys/validation").json()
    assert (body["scope"], body["scopeId"], body["acls"]) == ("SCOPE_TEAM", TEAM, [BILLING_READ])
    assert "xai-mgmt-reader" not in str(body)


def test_a_key_with_write_may_read_but_not_touch_billing() -> None:
    app = make_app(management_keys={"xai-mgmt-keys": [KEYS_WRITE]})
    http = client(app, "xai-mgmt-keys")
    assert http.get(KEYS).status_code == 200
    assert http.post(f"{BILLING}/prepaid/top-up", json={"amount": {"val": 100}}).status_code == 403
    assert app.store.top_ups() == [c for c in app.store.balance_changes if c.origin == "PURCHASE"]
    assert len(app.store.top_ups()) == 2  # the seeded purchases only


def test_another_teams_path_is_refused() -> None:
    assert client(make_app()).get("/auth/teams/team-other/api-keys").status_code == 403


# --- usage ----------------------------------------------------------------------------------------


def test_usage_by_description_and_key_sums_to_the_store_totals() -> None:
    app = make_app()
    body = usage_body("2026-08-01 00:00:00", "2026-11-18 00:00:00")
    series = client(app).post(f"{BILLING}/usage", json=body).json()["timeSeries"]

    by_group = {tuple(s["group"]): _cents([s]) for s in series}

    assert by_group == app.store.usage_totals(date(2026, 8, 1), date(2026, 11, 18))
    assert _cents(series) == app.store.usage_cents(date(2026, 8, 1), date(2026, 11, 18)) > 0
    assert {s["groupLabels"][1] for s in series} <= {k.name for k in app.store.keys.values()}


def test_usage_filtered_by_key_sums_that_keys_usage() -> None:
    app = make_app()
    key_id = next(iter(app.store.keys))
    body = usage_body(
        "2026-10-01 00:00:00", "2026-11-01 00:00:00", filters=(f"api_key_id:{key_id}",)
    )
    series = client(app).post(f"{BILLING}/usage", json=body).json()["timeSeries"]
    assert {s["group"][1] for s in series} == {key_id}
    assert _cents(series) == app.store.usage_cents(
        date(2026, 10, 1), date(2026, 11, 1), api_key_id=key_id
    )


def test_a_day_in_paris_is_read_in_paris_and_stamped_in_utc() -> None:
    app = make_app()
    http = client(app)
    body = usage_body(
        "2026-11-10 00:00:00", "2026-11-12 00:00:00", group_by=(), timezone="Europe/Paris"
    )
    answer = http.post(f"{BILLING}/usage", json=body).json()
    (series,) = answer["timeSeries"]
    # Paris is UTC+1 in November: the local day 11-10 is 11-09 23:00 to 11-10 23:00 UTC.
    expected = sum(hour_parts(c)[23] for _d, _k, c in app.store.usage[date(2026, 11, 9)])
    expected += sum(sum(hour_parts(c)[:23]) for _d, _k, c in app.store.usage[date(2026, 11, 10)])

    assert [p["timestamp"] for p in series["dataPoints"]] == [
        "2026-11-09T23:00:00Z",
        "2026-11-10T23:00:00Z",
    ]
    assert _cents([{"dataPoints": series["dataPoints"][:1]}]) == expected
    utc = http.post(
        f"{BILLING}/usage",
        json={**body, **usage_body("2026-11-10 00:00:00", "2026-11-12 00:00:00", group_by=())},
    ).json()
    assert utc["timeSeries"][0]["dataPoints"][0]["timestamp"] == "2026-11-10T00:00:00Z"
    assert _cents(utc["timeSeries"]) != _cents(answer["timeSeries"])


def test_the_points_are_dense_and_the_end_is_exclusive() -> None:
    body = usage_body("2026-11-01 00:00:00", "2026-11-08 00:00:00", group_by=("description",))
    series = client(make_app()).post(f"{BILLING}/usage", json=body).json()["timeSeries"]
    assert {len(s["dataPoints"]) for s in series} == {7}


def test_a_huge_answer_is_truncated_and_says_so() -> None:
    body = usage_body("2026-07-01 00:00:00", "2026-11-18 00:00:00", unit="TIME_UNIT_HOUR")
    answer = client(make_app()).post(f"{BILLING}/usage", json=body).json()
    points = sum(len(s["dataPoints"]) for s in answer["timeSeries"])
    assert answer["limitReached"] is True
    assert points <= 10_000


def test_a_bad_analytics_request_is_a_400() -> None:
    http = client(make_app())
    good = usage_body("2026-11-01 00:00:00", "2026-11-02 00:00:00")
    bad = [
        usage_body("2026-11-01", "2026-11-02 00:00:00"),
        usage_body("2026-11-02 00:00:00", "2026-11-01 00:00:00"),
        usage_body("2026-11-01 00:00:00", "2026-11-02 00:00:00", timezone="Mars/Olympus"),
        usage_body("2026-11-01 00:00:00", "2026-11-02 00:00:00", group_by=("model",)),
        usage_body("2026-11-01 00:00:00", "2026-11-02 00:00:00", filters=("team:x",)),
        {"analyticsRequest": {**good["analyticsRequest"], "timeUnit": "TIME_UNIT_YEAR"}},
    ]
    assert http.post(f"{BILLING}/usage", json=good).status_code == 200
    assert [http.post(f"{BILLING}/usage", json=b).status_code for b in bad] == [400] * 6


# --- billing --------------------------------------------------------------------------------------


def test_the_preview_lines_sum_the_months_usage() -> None:
    app = make_app()
    preview = client(app).get(f"{BILLING}/postpaid/invoice/preview").json()
    core = preview["coreInvoice"]
    month = app.store.usage_cents(date(2026, 11, 1), date(2026, 11, 19))

    assert sum(int(line["amount"]) for line in core["lines"]) == month > 0
    assert int(core["amountBeforeVat"]) == month
    assert int(core["amountAfterVat"]) == month + int(core["vatCost"])
    assert preview["billingCycle"] == {"year": 2026, "month": 11}


def test_each_monthly_invoice_sums_its_months_usage() -> None:
    app = make_app()
    invoices = client(app).get(f"{BILLING}/invoices").json()["invoices"]
    monthly = [i for i in invoices if "monthly" in i]
    for invoice in monthly:
        cycle = invoice["monthly"]["billingCycle"]
        start = date(cycle["year"], cycle["month"], 1)
        end = (start + timedelta(days=32)).replace(day=1)
        assert int(invoice["subtotal"]) == app.store.usage_cents(start, end)
        assert int(invoice["total"]) == int(invoice["subtotal"]) + int(invoice["tax"])
    assert {i["invoiceStatus"] for i in monthly} == {
        "PENDING",
        "PAID",
        "FAILED",
        "WILL_NEVER_BE_CHARGED",
    }


def test_the_three_invoice_filters() -> None:
    http = client(make_app())
    every = http.get(f"{BILLING}/invoices").json()["invoices"]
    cycle = {"billingCycle.year": 2026, "billingCycle.month": 9}
    of_september = http.get(f"{BILLING}/invoices", params=cycle).json()["invoices"]
    since = http.get(f"{BILLING}/invoices", params={"since.year": 2026, "since.month": 10})
    ids = [every[0]["invoiceId"], every[2]["invoiceId"]]
    by_id = http.get(f"{BILLING}/invoices", params={"invoiceIds": ids}).json()["invoices"]
    both = http.get(f"{BILLING}/invoices", params={**cycle, "since.year": 2026, "since.month": 1})

    assert of_september
    assert all(
        i["monthly"]["billingCycle"] == {"year": 2026, "month": 9}
        for i in of_september
        if "monthly" in i
    )
    assert 0 < len(since.json()["invoices"]) < len(every)
    assert [i["invoiceId"] for i in by_id] == ids
    assert both.status_code == 400


def test_a_top_up_is_recorded_charged_and_audited() -> None:
    app = make_app()
    http = client(app)
    before = app.store.balance_cents()

    change = http.post(f"{BILLING}/prepaid/top-up", json={"amount": {"val": "2500"}}).json()
    balance = http.get(f"{BILLING}/prepaid/balance").json()

    assert change["change"]["changeOrigin"] == "PURCHASE"
    assert int(change["change"]["amount"]["val"]) == -2500
    assert int(balance["total"]["val"]) == before + 2500
    assert app.store.top_ups()[-1].amount == -2500
    assert app.store.audit[-1].description == "Purchased $25.00 of prepaid credits"


def test_the_soft_limit_can_be_set_within_the_hard_limit_only() -> None:
    http = client(make_app())
    ok = http.post(
        f"{BILLING}/postpaid/spending-limits", json={"desiredSoftSpendingLimit": {"val": 0}}
    )
    too_high = http.post(
        f"{BILLING}/postpaid/spending-limits",
        json={"desiredSoftSpendingLimit": {"val": "999999999"}},
    )
    limits = http.get(f"{BILLING}/postpaid/spending-limits").json()["spendingLimits"]
    assert int(ok.json()["thisBpSoftSpendingLimit"]["val"]) == 0
    assert too_high.status_code == 400
    assert int(limits["softSl"]["val"]) == int(limits["effectiveSl"]["val"]) == 0


def test_the_default_payment_method_comes_first_and_must_exist() -> None:
    http = client(make_app())
    set_it = f"{BILLING}/payment-method/default"
    assert http.post(set_it, json={"paymentMethodId": "pm_demo_amex_0005"}).json() == {}
    methods = http.get(f"{BILLING}/payment-method").json()["paymentMethods"]
    assert methods[0]["paymentMethodId"] == "pm_demo_amex_0005"
    assert http.post(set_it, json={"paymentMethodId": "pm_nope"}).status_code == 404


# --- audit ----------------------------------------------------------------------------------------


def test_each_mutation_records_an_event_by_the_keys_owner() -> None:
    app = make_app()
    http = client(app)
    owner = next(iter(app.store.management_keys.values())).owner_user_id
    key = _create(http)
    path = f"/auth/api-keys/{key['apiKeyId']}"
    http.put(path, json={"apiKey": {"qps": 9}, "fieldMask": "qps"})
    http.put(path, json={"apiKey": {"disabled": True}, "fieldMask": "disabled"})
    http.post(f"{path}/rotate")
    http.delete(path)
    http.post(
        f"{BILLING}/postpaid/spending-limits", json={"desiredSoftSpendingLimit": {"val": 100}}
    )
    http.post(f"{BILLING}/billing-info", json={"billingInfo": {"name": "Acme"}})

    since = {"eventTimeFrom": "2026-11-18T14:30:00Z", "orderBy": "TIME_ASCENDING"}
    events = http.get(f"/audit/teams/{TEAM}/events", params=since).json()["events"]

    assert [e["description"] for e in events] == [
        'Created API key "Batch jobs"',
        'Updated API key "Batch jobs" (qps)',
        'Disabled API key "Batch jobs"',
        'Rotated API key "Batch jobs"',
        'Deleted API key "Batch jobs"',
        "Set the monthly soft spending limit to $1.00",
        "Updated the billing information",
    ]
    assert {e["user"]["userId"] for e in events} == {owner}


def test_audit_paging_and_filters() -> None:
    app = make_app()
    http = client(app)
    path = f"/audit/teams/{TEAM}/events"
    seen, token = [], ""
    while True:
        page = http.get(path, params={"pageSize": 33, "pageToken": token}).json()
        seen += page["events"]
        token = page["nextPageToken"]
        if not token:
            break
    times = [e["eventTime"] for e in seen]
    user = seen[0]["user"]["userId"]
    mine = http.get(path, params={"eventFilter.userId": user, "pageSize": 1000}).json()["events"]
    created = http.get(path, params={"eventFilter.query": "created api key"}).json()["events"]

    assert len(seen) == len({e["eventId"] for e in seen}) == len(app.store.audit) >= 200
    assert times == sorted(times, reverse=True)
    assert {e["user"]["userId"] for e in mine} == {user}
    assert len(created) == 8
    assert all("Created API key" in e["description"] for e in created)
    assert len({e["user"]["userId"] for e in seen}) == 4


# --- determinism and faults -----------------------------------------------------------------------


def test_the_same_seed_and_clock_give_the_same_team() -> None:
    def answers(seed: int) -> list[str]:
        http = client(make_app(seed=seed))
        return [
            http.get(p).text for p in (KEYS, f"{BILLING}/invoices", f"/audit/teams/{TEAM}/events")
        ]

    assert answers(0) == answers(0)
    assert answers(0) != answers(1)


def test_scripted_faults_come_in_order_and_change_nothing() -> None:
    app = make_app(faults=FaultConfig(script=["429", "500", "drop", "ok"], retry_after=2))
    http = client(app)
    statuses = [http.post(KEYS, json={"name": "Retry me"}).status_code for _ in range(2)]
    with pytest.raises(Exception, match="disconnected"):
        http.post(KEYS, json={"name": "Retry me"})
    assert statuses == [429, 500]
    assert [k.name for k in app.store.keys.values()].count("Retry me") == 0
    assert http.post(KEYS, json={"name": "Retry me"}).status_code == 200


def test_rated_faults_repeat_with_the_seed() -> None:
    def run() -> list[int]:
        app = make_app(faults=FaultConfig(rate=0.5, seed=7, mix={"429": 1, "503": 1}))
        http = client(app)
        return [http.get(f"{BILLING}/billing-info").status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert Counter(first).keys() == {200, 429, 503}


def test_a_429_carries_retry_after() -> None:
    http = client(make_app(faults=FaultConfig(script=["429"], retry_after=4)))
    response = http.get(KEYS)
    assert response.headers["retry-after"] == "4"
    assert response.json()["code"] == 8


# --- serving --------------------------------------------------------------------------------------


class _Served:
    def __init__(self, app, host, port) -> None:
        self.app, self.server_address = app, (host, port or 8002)

    def serve_forever(self) -> None:
        pass

    def server_close(self) -> None:
        pass


@pytest.fixture
def served(monkeypatch) -> list[_Served]:
    from orgadmin.xai.simulator import server

    made: list[_Served] = []
    monkeypatch.setattr(server, "make_server", lambda *a: made.append(_Served(*a)) or made[-1])
    monkeypatch.delenv("XAI_SIMULATOR_MANAGEMENT_KEY", raising=False)
    return made


def test_the_command_refuses_outside_debug_and_its_public_key_even_forced(settings, served):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to serve: DEBUG is off"):
        call_command("simulate_xai")
    with pytest.raises(CommandError, match="public default management key"):
        call_command("simulate_xai", "--force")
    assert not served
    err = io.StringIO()
    call_command("simulate_xai", "--force", "--management-key", "xai-mgmt-mine-0000", stderr=err)
    assert "WARNING: serving the xAI Management API simulator" in err.getvalue()
    assert "xai-mgmt-mine-0000" in served[0].app.store.management_keys


def test_the_command_serves_the_demo_on_8002_with_its_options(settings, served) -> None:
    from django.core.management import call_command

    settings.DEBUG = True
    out = io.StringIO()
    call_command(
        "simulate_xai",
        "--scenario",
        "large",
        "--seed",
        "3",
        "--latency-ms",
        "5",
        "--faults",
        "0.1",
        "--acls",
        "management-api:billing:read",
        stdout=out,
    )
    app = served[0].app
    assert served[0].server_address == ("127.0.0.1", 8002)
    assert (app.store.scenario, app.store.seed, app.faults.rate) == ("large", 3, 0.1)
    assert app.store.management_keys[DEFAULT_MANAGEMENT_KEY].acls == (BILLING_READ,)
    assert "http://127.0.0.1:8002" in out.getvalue()
