"""An xAI team's API keys in the dashboard, against the in-process xAI simulator (with faults):
the list, create (the secret shown once), field-mask edits, disable/enable, rotate, delete, the
Activity log, who may do what, bad input and the provider's errors with their request ids."""

from __future__ import annotations

import copy
import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgadmin.client import install_transport
from orgadmin.models import ActionLog, Organization
from orgadmin.simulator.faults import FaultConfig
from tests.conftest import Clock
from tests.factories import OrganizationFactory
from tests.xai.simulator_support import BASE_URL, KEY, NOW, make_app

HX = {"HX-Request": "true"}
READ_ONLY = "xai-mgmt-simulator-read-only-key-00000000rdnl"
BILLING_ONLY = "xai-mgmt-simulator-billing-only-key-0000bill"


class Recording(httpx.WSGITransport):
    """The simulator's transport, keeping every request and its answer's request id."""

    def __init__(self, app) -> None:
        super().__init__(app=app)
        self.sent: list[tuple[str, str, dict]] = []
        self.request_ids: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.sent.append((request.method, request.url.path, body))
        response = super().handle_request(request)
        self.request_ids.append(response.headers.get("x-request-id", ""))
        return response

    def request_id_of(self, method: str, path_end: str) -> str:
        """The request id of the last `method` request whose path ends so."""
        found = [
            rid
            for (m, path, _), rid in zip(self.sent, self.request_ids, strict=True)
            if m == method and path.endswith(path_end)
        ]
        return found[-1]


@pytest.fixture
def xclock(monkeypatch) -> Clock:
    """One clock for the dashboard and the simulator: a minute after the demo's `NOW`."""
    moving = Clock(NOW + 60)
    monkeypatch.setattr(timezone, "now", moving.datetime)
    return moving


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The client's waits between attempts, not slept."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


@pytest.fixture
def sim(xclock, waits):
    app = make_app(
        now=xclock,
        faults=FaultConfig(retry_after=1),
        management_keys={
            KEY: ["management-api:*"],
            READ_ONLY: ["management-api:api-keys:read"],
            BILLING_ONLY: ["management-api:billing:read"],
        },
    )
    transport = Recording(app)
    with install_transport(BASE_URL, transport):
        app.transport = transport
        yield app


@pytest.fixture
def team(db, sim) -> Organization:
    return OrganizationFactory(
        name="Grok team (simulator)",
        provider="xai",
        base_url=BASE_URL,
        admin_key=KEY,
        account_id=sim.team_id,
    )


@pytest.fixture
def as_admin(client_as, admin, team) -> Client:
    return client_as(admin)


def _key(sim, name: str):
    return next(k for k in sim.store.keys.values() if k.name == name)


def _live_key(sim):
    """A demo key that is neither disabled nor expired, with ACLs and limits."""
    now = datetime.fromtimestamp(sim.now(), UTC)
    return next(k for k in sim.store.keys.values() if k.active(now) and k.acls and k.qpm and k.tpm)


def _model(sim) -> str:
    return sorted(m["name"] for m in sim.store.models)[0]


def _form(key, **changes) -> dict:
    """The edit form as the page fills it in for `key`, with `changes`."""
    data = {
        "name": key.name,
        "endpoints": [a for a in key.acls if a.startswith("api-key:endpoint:")],
        "models": [a for a in key.acls if a.startswith("api-key:model:")],
        "qps": key.qps or "",
        "qpm": key.qpm or "",
        "tpm": key.tpm or "",
        "expires_at": f"{key.expire_time:%Y-%m-%dT%H:%M}" if key.expire_time else "",
    }
    data.update(changes)
    return data


def _actions(action: str) -> list[ActionLog]:
    return list(ActionLog.objects.filter(action=action).order_by("pk"))


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_every_key_with_its_acls_limits_expiry_and_state(as_admin, sim):
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    keys = list(sim.store.keys.values())
    assert len(keys) >= 6
    for key in keys:
        assert key.name in page
        assert f"xai-...{key.secret[-4:]}" in page
        assert key.secret not in page
    assert "xAI keys have no last-used time" in page
    disabled = next(k for k in keys if k.disabled)
    row = re.search(rf'<tr id="team-key-{disabled.api_key_id}">.*?</tr>', page, re.S).group(0)
    assert "disabled" in row
    expired = next(k for k in keys if k.expire_time and k.expire_time < now_dt())
    row = re.search(rf'<tr id="team-key-{expired.api_key_id}">.*?</tr>', page, re.S).group(0)
    assert "expired" in row
    assert f"{expired.expire_time:%Y-%m-%d %H:%M}" in row
    limited = _live_key(sim)
    row = re.search(rf'<tr id="team-key-{limited.api_key_id}">.*?</tr>', page, re.S).group(0)
    assert f"{limited.qpm:,} qpm" in row
    assert f"{limited.tpm:,} tpm" in row
    assert limited.user_id in row
    # One request for the list: propagation loads per row, lazily.
    assert [p for _, p, _ in sim.transport.sent] == [f"/auth/teams/{sim.team_id}/api-keys"]
    assert f"/team-keys/{limited.api_key_id}/propagation/" in row


def now_dt() -> datetime:
    return datetime.fromtimestamp(NOW, UTC)


def test_a_rate_limit_is_waited_out_and_the_list_still_shows(as_admin, sim, waits):
    sim.faults = FaultConfig(script=["429"], retry_after=1)
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    assert _live_key(sim).name in page
    assert waits == [1.0]  # Retry-After honoured once, then the answer


def test_a_provider_error_is_shown_with_its_request_id(as_admin, sim):
    sim.faults = FaultConfig(rate=1.0, mix={"503": 1})
    response = as_admin.get(reverse("orgadmin:team_keys"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The keys could not be read" in page
    assert "xAI could not list the team&#x27;s API keys" in page
    assert "HTTP 503" in page
    assert f"request id {sim.transport.request_ids[-1]}" in page


def test_propagation_loads_per_key_and_catches_up(as_admin, sim, xclock):
    created = as_admin.post(
        reverse("orgadmin:team_key_create"),
        {"name": "fresh", "endpoints": ["api-key:endpoint:chat"]},
    )
    assert created.status_code == 200
    key = _key(sim, "fresh")
    url = reverse("orgadmin:team_key_propagation", args=[key.api_key_id])
    assert "0 of 3" in as_admin.get(url + "?compact=1", headers=HX).content.decode()
    xclock.advance(seconds=30)
    page = as_admin.get(url, headers=HX).content.decode()
    assert "3 of 3" in page
    assert "eu-west-1.api.x.ai" in page


# --- create: the secret once --------------------------------------------------------------------


def test_it_creates_a_key_with_two_acls_and_shows_the_secret_once(as_admin, sim, caplog):
    caplog.set_level(logging.DEBUG)
    model = _model(sim)
    form = as_admin.get(reverse("orgadmin:team_key_create")).content.decode()
    assert 'value="api-key:endpoint:*"' in form
    assert f'value="api-key:model:{model}"' in form

    response = as_admin.post(
        reverse("orgadmin:team_key_create"),
        {
            "name": "  support   bot ",
            "endpoints": ["api-key:endpoint:chat"],
            "models": [f"api-key:model:{model}"],
            "qps": "5",
            "qpm": "300",
            "tpm": "1,000,000",
        },
    )
    key = _key(sim, "support bot")
    page = response.content.decode()
    assert key.acls == ["api-key:endpoint:chat", f"api-key:model:{model}"]
    assert (key.qps, key.qpm, key.tpm) == (5, 300, 1_000_000)
    assert page.count(key.secret) == 1
    assert "xAI shows it only this once" in page
    assert "no-store" in response["Cache-Control"]

    for url in (reverse("orgadmin:team_key_create"), reverse("orgadmin:team_keys")):
        assert key.secret not in as_admin.get(url).content.decode()
    (logged,) = _actions("team_key.create")
    assert logged.outcome == ActionLog.Outcome.OK
    assert logged.resource_id == key.api_key_id
    assert logged.request_id == sim.transport.request_id_of("POST", "/api-keys")
    assert f"“support bot” (xai-...{key.secret[-4:]})" in logged.summary
    assert key.secret not in logged.summary + logged.error
    assert all(key.secret not in r.getMessage() for r in caplog.records)


def test_the_create_form_answers_htmx_with_its_card(as_admin, sim):
    response = as_admin.post(
        reverse("orgadmin:team_key_create"),
        {"name": "via htmx", "models": ["api-key:model:*"]},
        headers=HX,
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<article id="team-key-create"')
    assert _key(sim, "via htmx").secret in page
    assert "Another key" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "   "}, "Give the key a name."),
        ({"name": "x", "qps": "0"}, "Enter 1 or more, or leave it empty for no limit."),
        ({"name": "x", "qpm": "-5"}, "a limit can&#x27;t be negative"),
        ({"name": "x", "tpm": "lots"}, "Enter a whole number, like 10,000."),
        ({"name": "x", "models": ["api-key:model:gpt-5"]}, "not an ACL this team can grant"),
        ({"name": "x", "endpoints": ["api-key:model:*"]}, "not an ACL this team can grant"),
        ({"name": "x", "expires_at": "2020-01-01T00:00"}, "Pick a time in the future"),
        ({"name": "x", "expires_at": "next tuesday"}, "Enter a date and time"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_created(as_admin, sim, data, message):
    before = set(sim.store.keys)
    response = as_admin.post(reverse("orgadmin:team_key_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert set(sim.store.keys) == before
    assert not ActionLog.objects.exists()


def test_a_refused_create_shows_the_request_id_and_is_logged(as_admin, sim):
    # The two reads of the form's choices pass; a create is not retried after a 5xx.
    sim.faults = FaultConfig(script=["ok", "ok", "500"])
    response = as_admin.post(reverse("orgadmin:team_key_create"), {"name": "doomed"})
    page = response.content.decode()
    assert "xAI could not create the key “doomed”" in page
    assert f"request id {sim.transport.request_id_of('POST', '/api-keys')}" in page
    assert "doomed" not in {k.name for k in sim.store.keys.values()}
    (logged,) = _actions("team_key.create")
    assert logged.outcome == ActionLog.Outcome.ERROR
    assert logged.request_id == sim.transport.request_id_of("POST", "/api-keys")


# --- edits as field masks -----------------------------------------------------------------------


def _puts(sim) -> list[dict]:
    return [body for method, _, body in sim.transport.sent if method == "PUT"]


def _unchanged_but(before, after, *fields: str) -> None:
    names = set(vars(before)) - {"modify_time", *fields}
    assert {n: getattr(after, n) for n in names} == {n: getattr(before, n) for n in names}


def test_an_acl_edit_sends_only_the_acls(as_admin, sim):
    key = _live_key(sim)
    before = copy.deepcopy(key)
    acls = [*key.acls, "api-key:endpoint:embed"]
    data = _form(key, endpoints=[a for a in acls if "endpoint" in a])
    response = as_admin.post(reverse("orgadmin:team_key_edit", args=[key.api_key_id]), data)
    assert response.status_code == 302
    assert sorted(key.acls) == sorted(acls)
    _unchanged_but(before, key, "acls")
    assert [p["fieldMask"] for p in _puts(sim)] == ["aclStrings"]
    (logged,) = _actions("team_key.update")
    assert "+api-key:endpoint:embed" in logged.summary
    assert before.name in logged.summary
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    assert f"Saved the API key “{key.name}”" in page


def test_a_limits_edit_sends_only_the_limits(as_admin, sim):
    key = _live_key(sim)
    before = copy.deepcopy(key)
    data = _form(key, qpm=str(key.qpm + 60), tpm="")
    as_admin.post(reverse("orgadmin:team_key_edit", args=[key.api_key_id]), data)
    assert (key.qpm, key.tpm) == (before.qpm + 60, None)
    _unchanged_but(before, key, "qpm", "tpm")
    assert [p["fieldMask"] for p in _puts(sim)] == ["qpm,tpm"]
    (logged,) = _actions("team_key.update")
    assert f"qpm {before.qpm} → {before.qpm + 60}" in logged.summary


def test_an_edit_that_changes_nothing_sends_nothing(as_admin, sim):
    key = _live_key(sim)
    response = as_admin.post(reverse("orgadmin:team_key_edit", args=[key.api_key_id]), _form(key))
    assert response.status_code == 302
    assert _puts(sim) == []
    assert not ActionLog.objects.exists()


def test_the_edit_page_shows_the_key_and_its_propagation(as_admin, sim):
    key = _live_key(sim)
    page = as_admin.get(reverse("orgadmin:team_key_edit", args=[key.api_key_id])).content.decode()
    assert f'value="{key.name}"' in page
    for acl in key.acls:
        assert re.search(rf'value="{re.escape(acl)}"[^>]*checked', page)
    assert reverse("orgadmin:team_key_propagation", args=[key.api_key_id]) in page
    assert key.secret not in page


def test_an_unknown_key_is_a_404(as_admin, sim):
    response = as_admin.get(reverse("orgadmin:team_key_edit", args=["no-such-key"]))
    assert response.status_code == 404


# --- disable, enable, rotate, delete ------------------------------------------------------------


def test_it_disables_and_enables_a_key(as_admin, sim):
    key = _live_key(sim)
    as_admin.post(reverse("orgadmin:team_key_disable", args=[key.api_key_id]), headers=HX)
    assert key.disabled is True
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    row = re.search(rf'<tr id="team-key-{key.api_key_id}">.*?</tr>', page, re.S).group(0)
    assert 'badge-error">disabled' in row
    assert ">Enable<" in row
    as_admin.post(reverse("orgadmin:team_key_enable", args=[key.api_key_id]), headers=HX)
    assert key.disabled is False
    assert [p["fieldMask"] for p in _puts(sim)] == ["disabled", "disabled"]
    assert [a.outcome for a in _actions("team_key.disable") + _actions("team_key.enable")] == [
        ActionLog.Outcome.OK,
        ActionLog.Outcome.OK,
    ]


@pytest.mark.parametrize(("lifetime", "valid_for"), [("3600", timedelta(hours=1)), ("0", None)])
def test_it_rotates_a_key_and_the_old_secret_works_until_the_chosen_time(
    as_admin, sim, xclock, lifetime, valid_for
):
    key = _live_key(sim)
    old = key.secret
    url = reverse("orgadmin:team_key_rotate", args=[key.api_key_id])
    form = as_admin.get(url).content.decode()
    assert re.search(r'value="86400"[^>]*checked', form)  # 24 hours unless told otherwise
    response = as_admin.post(url, {"old_secret_lifetime": lifetime})
    page = response.content.decode()
    assert key.secret != old
    assert page.count(key.secret) == 1
    assert old not in page
    assert "no-store" in response["Cache-Control"]
    now = xclock.datetime()
    assert sim.store.secret_valid(key.secret, now)
    if valid_for is None:
        assert not sim.store.secret_valid(old, now + timedelta(seconds=1))
    else:
        assert sim.store.secret_valid(old, now + valid_for - timedelta(seconds=1))
        assert not sim.store.secret_valid(old, now + valid_for + timedelta(seconds=1))
    assert key.secret not in as_admin.get(url).content.decode()
    (logged,) = _actions("team_key.rotate")
    assert key.name in logged.summary
    assert key.secret not in logged.summary
    assert old not in logged.summary


def test_it_deletes_a_key(as_admin, sim):
    key = _live_key(sim)
    response = as_admin.post(reverse("orgadmin:team_key_delete", args=[key.api_key_id]), headers=HX)
    assert response.status_code == 200
    assert key.api_key_id not in sim.store.keys
    assert key.name not in as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    (logged,) = _actions("team_key.delete")
    assert logged.outcome == ActionLog.Outcome.OK
    assert key.name in logged.summary


def test_delete_and_rotate_ask_for_a_recent_sign_in(sim, team, admin):
    key = _live_key(sim)
    stale = Client()
    stale.force_login(admin)  # no password typed lately
    for name, data in (("team_key_delete", {}), ("team_key_rotate", {"old_secret_lifetime": "0"})):
        response = stale.post(reverse(f"orgadmin:{name}", args=[key.api_key_id]), data)
        assert response.status_code == 302
        assert "reauthenticate" in response["Location"]
    assert key.api_key_id in sim.store.keys
    assert not ActionLog.objects.exists()


def test_activity_shows_every_write(as_admin, sim):
    key = _live_key(sim)
    kid = key.api_key_id
    as_admin.post(reverse("orgadmin:team_key_create"), {"name": "audited", "qps": "3"})
    as_admin.post(reverse("orgadmin:team_key_edit", args=[kid]), _form(key, qps="7"))
    as_admin.post(reverse("orgadmin:team_key_disable", args=[kid]), headers=HX)
    as_admin.post(reverse("orgadmin:team_key_enable", args=[kid]), headers=HX)
    as_admin.post(reverse("orgadmin:team_key_rotate", args=[kid]), {"old_secret_lifetime": "0"})
    as_admin.post(reverse("orgadmin:team_key_delete", args=[kid]), headers=HX)
    page = as_admin.get(reverse("orgadmin:activity")).content.decode()
    for action in ("create", "update", "disable", "enable", "rotate", "delete"):
        assert f"team_key.{action}" in page
    assert "Created the API key “audited”" in page
    assert ActionLog.objects.filter(action__startswith="team_key.", request_id="").count() == 0


# --- who may ------------------------------------------------------------------------------------


def test_an_auditor_reads_the_keys_but_changes_nothing(client_as, auditor, sim, team):
    as_auditor = client_as(auditor)
    key = _live_key(sim)
    page = as_auditor.get(reverse("orgadmin:team_keys")).content.decode()
    assert key.name in page
    assert "New key" not in page
    assert ">Delete<" not in page
    assert ">Rotate" not in page
    assert as_auditor.get(reverse("orgadmin:team_key_create")).status_code == 403
    url = reverse("orgadmin:team_key_delete", args=[key.api_key_id])
    assert as_auditor.post(url).status_code == 403
    assert key.api_key_id in sim.store.keys


def test_finance_may_not_see_the_keys(client_as, finance, sim, team):
    as_finance = client_as(finance)
    assert as_finance.get(reverse("orgadmin:team_keys")).status_code == 403
    key = _live_key(sim)
    propagation = reverse("orgadmin:team_key_propagation", args=[key.api_key_id])
    assert as_finance.get(propagation).status_code == 403


def test_an_admin_sees_every_control(as_admin, sim):
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    assert "New key" in page
    assert ">Delete<" in page
    assert ">Rotate" in page
    assert ">Edit" in page


def test_a_read_only_management_key_hides_the_controls_and_says_why(as_admin, sim, team):
    team.set_admin_key(READ_ONLY)
    team.save()
    key = _live_key(sim)
    response = as_admin.post(reverse("orgadmin:team_key_disable", args=[key.api_key_id]))
    assert key.disabled is False
    (logged,) = _actions("team_key.disable")
    assert logged.outcome == ActionLog.Outcome.ERROR
    assert "lacks the ACL" in logged.error
    assert response.status_code == 302
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    assert "xAI refused to disable the key" in page  # the message, after the redirect
    assert "Read only." in page
    assert "management-api:api-keys:write" in page
    assert "New key" not in page
    assert ">Delete<" not in page
    assert key.name in page  # reading still works


def test_an_openai_connection_has_no_team_keys(client_as, admin, org):
    response = client_as(admin).get(reverse("orgadmin:team_keys"))
    assert response.status_code == 404


def test_a_read_only_key_gets_no_forms_but_sees_why_a_create_failed(as_admin, sim, team):
    team.set_admin_key(READ_ONLY)
    team.save()
    response = as_admin.post(reverse("orgadmin:team_key_create"), {"name": "nope"})
    page = response.content.decode()
    assert "xAI refused to create the key “nope”" in page
    assert "lacks the ACL management-api:api-keys:write" in page
    assert 'name="name"' not in page  # the form is gone: the key may not write
    key = _live_key(sim)
    edit = as_admin.get(reverse("orgadmin:team_key_edit", args=[key.api_key_id])).content.decode()
    assert "Read only." in edit
    assert 'name="qpm"' not in edit
    assert f"{key.qpm:,} qpm" in edit


def test_a_key_that_may_not_read_keys_says_so(as_admin, sim, team):
    team.set_admin_key(BILLING_ONLY)
    team.save()
    page = as_admin.get(reverse("orgadmin:team_keys")).content.decode()
    assert "The keys could not be read" in page
    assert "lacks the ACL management-api:api-keys:read" in page
    assert "Not permitted by this key." in page
    assert "New key" not in page
    team.refresh_from_db()
    assert not team.key_may_read("keys")
