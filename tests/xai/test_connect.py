"""Connecting an xAI team: from Connections and from `manage.py org_add --provider xai`."""

from __future__ import annotations

import io

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.models import ActionLog, Organization
from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY, create_app
from tests.conftest import SIM_NOW, XAI_BASE_URL
from tests.factories import UserFactory

BILLING_READER = "xai-mgmt-billing-reader-000000000000qrst"


@pytest.fixture
def restricted():
    """A simulator that also knows a management key that may only read billing."""
    app = create_app(
        scenario="demo",
        seed=0,
        management_keys={
            TEST_MANAGEMENT_KEY: ["management-api:*"],
            BILLING_READER: ["management-api:billing:read"],
        },
        now=lambda: SIM_NOW,
    )
    with install_transport(XAI_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


def _add(client, key: str, name: str = "Grok team"):
    return client.post(
        reverse("orgadmin:connections"),
        {"provider": "xai", "name": name, "base_url": XAI_BASE_URL, "admin_key": key},
    )


def test_an_admin_connects_a_team_and_its_id_comes_from_the_key(client_as, restricted):
    admin = UserFactory(role=Role.ADMIN)
    answer = _add(client_as(admin), TEST_MANAGEMENT_KEY)
    assert answer.status_code in (200, 302)
    org = Organization.objects.get(name="Grok team")
    assert org.provider == "xai"
    assert org.account_id == restricted.team_id
    assert org.status == Organization.Status.OK
    assert org.admin_key == TEST_MANAGEMENT_KEY  # decrypted: stored encrypted
    assert TEST_MANAGEMENT_KEY not in org.admin_key_encrypted
    assert org.admin_key_masked == f"xai-…{TEST_MANAGEMENT_KEY[-4:]}"
    assert org.key_limits == {}  # every ACL
    page = client_as(admin).get(reverse("orgadmin:connections")).content.decode()
    assert restricted.team_id in page
    assert TEST_MANAGEMENT_KEY not in page
    assert ActionLog.objects.filter(action="connection.create", outcome="ok").exists()


def test_the_key_acls_decide_what_is_readable_and_writable(client_as, restricted):
    admin = UserFactory(role=Role.ADMIN)
    _add(client_as(admin), BILLING_READER, name="Billing only")
    org = Organization.objects.get(name="Billing only")
    assert org.key_may_read("billing")
    assert not org.key_may_write("billing")
    assert not org.key_may_read("keys")
    assert not org.key_may_read("audit_log")
    page = client_as(admin).get(reverse("orgadmin:connections")).content.decode()
    # The areas the key may only read, or not at all, are listed, and where to change that.
    assert "Billing</strong>: may only be read (the key&#x27;s ACLs grant no write" in page
    assert "the xAI console (Settings › Management Keys)" in page
    areas = page[page.index('class="key-areas"') :]
    assert "OpenAI" not in areas[: areas.index("</details>")]


def test_a_refused_key_is_explained_and_nothing_is_stored(client_as, restricted):
    admin = UserFactory(role=Role.ADMIN)
    answer = _add(client_as(admin), "xai-mgmt-not-a-real-key-00000000000000")
    text = answer.content.decode()
    assert "Invalid bearer token" in text
    assert "request id" in text
    assert not Organization.objects.filter(name="Grok team").exists()
    assert "not-a-real-key" not in text


def test_org_add_registers_and_verifies_a_team(db, restricted, monkeypatch):
    monkeypatch.setenv("XAI_MANAGEMENT_KEY", TEST_MANAGEMENT_KEY)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    out = io.StringIO()
    call_command(
        "org_add",
        "--name",
        "Grok",
        "--provider",
        "xai",
        "--base-url",
        XAI_BASE_URL,
        "--verify",
        stdout=out,
    )
    org = Organization.objects.get(name="Grok")
    assert (org.provider, org.account_id, org.status) == ("xai", restricted.team_id, "ok")
    assert TEST_MANAGEMENT_KEY not in out.getvalue()
    assert "Verified" in out.getvalue()


def test_org_add_without_a_management_key_says_where_to_put_it(db, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.delenv("XAI_MANAGEMENT_KEY", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="XAI_MANAGEMENT_KEY"):
        call_command("org_add", "--name", "Grok", "--provider", "xai", stdout=io.StringIO())


def test_a_team_registered_without_a_call_learns_its_id_on_first_use(db, restricted, monkeypatch):
    from orgadmin.services.teams import team_id

    monkeypatch.setenv("XAI_MANAGEMENT_KEY", TEST_MANAGEMENT_KEY)
    call_command(
        "org_add",
        "--name",
        "Grok",
        "--provider",
        "xai",
        "--base-url",
        XAI_BASE_URL,
        stdout=io.StringIO(),
    )
    org = Organization.objects.get(name="Grok")
    assert org.account_id == ""
    assert team_id(org) == restricted.team_id
    assert Organization.objects.get(name="Grok").account_id == restricted.team_id


def test_replacing_a_teams_key_asks_for_a_management_key(client_as, team, superuser):
    from tests.conftest import signed_in_just_now

    client = client_as(superuser)
    signed_in_just_now(client, superuser)
    page = client.get(reverse("orgadmin:connection_key", args=[team.pk])).content.decode()
    assert "Replace the management key of" in page
    assert "New management key" in page
    assert "console.x.ai" in page
