"""Connections: an Admin adds, verifies, renames, re-keys and removes them in the browser."""

from __future__ import annotations

import html
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from orgadmin.models import ActionLog, Organization
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import OrganizationFactory

OTHER_FERNET_KEY = "b3RoZXItdGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDA="


def _add(client, **overrides):
    data = {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY, **overrides}
    return client.post(reverse("orgadmin:connections"), data)


def test_it_adds_a_connection_once_the_api_accepts_the_key(client_as, admin, simulator):
    response = _add(client_as(admin))

    assert response.status_code == 302
    org = Organization.objects.get()
    assert (org.name, org.base_url, org.status) == ("Acme", SIM_BASE_URL, "ok")
    assert org.admin_key == SIM_ADMIN_KEY
    assert org.admin_key_masked == "sk-admin-…wxyz"
    assert org.added_by == admin
    assert org.last_verified_at is not None
    log = ActionLog.objects.get()
    assert (log.action, log.outcome, log.actor) == ("connection.create", "ok", admin)
    assert log.request_id

    page = client_as(admin).get(reverse("orgadmin:connections"))
    assert "sk-admin-…wxyz" in page.content.decode()
    assert "Connected" in page.content.decode()


def test_it_shows_the_apis_refusal_with_its_request_id_and_stores_nothing(
    client_as, admin, simulator
):
    response = _add(client_as(admin), admin_key="sk-admin-not-a-key-the-simulator-knows-0000")

    assert response.status_code == 200
    body = response.content.decode()
    assert "The API refused this connection" in body
    assert "HTTP 401" in body
    assert "request id" in body
    assert not Organization.objects.exists()
    failed = ActionLog.objects.get()
    assert failed.outcome == "error"
    assert failed.request_id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "This field is required."),
        ("base_url", "not a url", "Enter a full http(s) URL"),
        ("base_url", "ftp://api.openai.com/v1", "Enter a full http(s) URL"),
        ("admin_key", "", "This field is required."),
        ("admin_key", "sk admin with spaces", "doesn't look like an admin key"),
    ],
)
def test_it_explains_bad_input_beside_the_field_and_stores_nothing(
    client_as, admin, simulator, field, value, message
):
    response = _add(client_as(admin), **{field: value})

    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Organization.objects.exists()
    assert not ActionLog.objects.exists()  # nothing was sent to the API


def test_it_refuses_a_duplicate_name(client_as, admin, org):
    response = _add(client_as(admin), name=org.name.upper())
    assert "Another connection already has this name." in response.content.decode()
    assert Organization.objects.count() == 1


def test_it_says_when_the_api_cannot_be_reached(client_as, admin, db, settings):
    settings.ALLOWED_API_HOSTS = ["http://127.0.0.1:9"]  # allowed, and nothing listens there
    response = _add(client_as(admin), base_url="http://127.0.0.1:9/v1")
    assert "Could not reach the OpenAI API" in response.content.decode()
    assert not Organization.objects.exists()


def test_it_answers_the_htmx_form_with_the_form_fragment(client_as, admin, simulator):
    response = client_as(admin).post(
        reverse("orgadmin:connections"),
        {"name": "", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert 'id="add-connection"' in body
    assert "<html" not in body


def test_it_verifies_a_connection_and_records_the_outcome(client_as, admin, org, simulator):
    response = client_as(admin).post(
        reverse("orgadmin:connection_verify", args=[org.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'id="connection-{org.pk}"' in response.content.decode()
    assert "works: the API accepted the key" in response.content.decode()  # OOB message
    org.refresh_from_db()
    assert org.status == "ok"
    assert org.status_request_id


def test_it_shows_the_error_and_request_id_when_verification_fails(client_as, admin, db, simulator):
    org = OrganizationFactory(base_url=SIM_BASE_URL, admin_key="sk-admin-revoked-0000000000000")
    client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))

    org.refresh_from_db()
    assert org.status == "error"
    assert org.status_request_id
    page = client_as(admin).get(reverse("orgadmin:connections")).content.decode()
    assert org.status_request_id in page


def test_it_renames_inline(client_as, admin, org):
    c = client_as(admin)
    url = reverse("orgadmin:connection_rename", args=[org.pk])
    form = c.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'name="name"' in form
    assert "<html" not in form

    row = c.post(url, {"name": "Acme production"}, headers={"HX-Request": "true"})
    assert "Acme production" in row.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme production"


def test_it_refuses_an_empty_new_name(client_as, admin, org):
    url = reverse("orgadmin:connection_rename", args=[org.pk])
    response = client_as(admin).post(url, {"name": "  "}, headers={"HX-Request": "true"})
    assert "This field is required." in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme (simulator)"


def test_it_removes_a_connection(client_as, admin, org):
    response = client_as(admin).post(reverse("orgadmin:connection_delete", args=[org.pk]))
    assert response.status_code == 302
    assert not Organization.objects.exists()
    assert ActionLog.objects.get().action == "connection.delete"


def test_it_replaces_the_key_only_when_the_api_accepts_the_new_one(client_as, admin, org):
    url = reverse("orgadmin:connection_key", args=[org.pk])
    before = org.admin_key_encrypted

    refused = client_as(admin).post(url, {"admin_key": "sk-admin-wrong-0000000000000000"})
    assert "The API refused this key" in refused.content.decode()
    org.refresh_from_db()
    assert org.admin_key_encrypted == before

    accepted = client_as(admin).post(url, {"admin_key": SIM_ADMIN_KEY})
    assert accepted.status_code == 302
    org.refresh_from_db()
    assert org.admin_key_encrypted != before  # re-encrypted
    assert org.admin_key == SIM_ADMIN_KEY


def test_it_asks_to_re_enter_a_key_that_can_no_longer_be_decrypted(client_as, admin, org):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_FERNET_KEY]):
        client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))
        org.refresh_from_db()
        assert org.status == "key_unreadable"
        page = client_as(admin).get(reverse("orgadmin:connections")).content.decode()
        assert "Re-enter the key" in page


def test_it_keeps_old_rows_readable_after_a_key_rotation(org):
    old_key = "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA="
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_FERNET_KEY, old_key]):
        assert org.admin_key == SIM_ADMIN_KEY
        out = io.StringIO()
        call_command("rotate_keys", stdout=out)
        assert "Re-encrypted 1 key(s)." in out.getvalue()
    org.refresh_from_db()
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_FERNET_KEY]):
        assert org.admin_key == SIM_ADMIN_KEY


def test_it_switches_the_current_organization(client_as, finance, db):
    first = OrganizationFactory(name="A org")
    second = OrganizationFactory(name="B org")
    c = client_as(finance)
    assert "A org" in c.get("/").content.decode().split("<h1>")[1]
    c.post(reverse("orgadmin:switch_org"), {"org": second.pk})
    assert "B org" in c.get("/").content.decode().split("<h1>")[1]
    assert first.pk != second.pk


class TestOrgAddCommand:
    def test_it_reads_the_key_from_the_environment(self, db, monkeypatch):
        monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-from-env-00000000000000001234")
        out = io.StringIO()
        call_command("org_add", "--name", "Acme", "--base-url", SIM_BASE_URL, stdout=out)
        org = Organization.objects.get(name="Acme")
        assert org.admin_key == "sk-admin-from-env-00000000000000001234"
        assert "sk-admin-…1234" in out.getvalue()
        assert "from-env" not in out.getvalue()

    def test_it_reads_the_key_from_stdin(self, db, monkeypatch):
        monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
        monkeypatch.setattr("sys.stdin", io.StringIO("sk-admin-from-stdin-000000000000005678\n"))
        call_command("org_add", "--name", "Acme", stdout=io.StringIO())
        assert Organization.objects.get().admin_key == "sk-admin-from-stdin-000000000000005678"

    def test_it_is_idempotent_by_name(self, db, monkeypatch):
        monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-first-0000000000000000000000")
        call_command("org_add", "--name", "Acme", stdout=io.StringIO())
        monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-second-000000000000000000000")
        call_command("org_add", "--name", "Acme", stdout=io.StringIO())
        assert Organization.objects.count() == 1
        assert Organization.objects.get().admin_key == "sk-admin-second-000000000000000000000"

    def test_it_has_no_way_to_pass_the_key_on_the_command_line(self, db):
        with pytest.raises(CommandError):
            call_command("org_add", "--name", "Acme", "--admin-key", "sk-admin-x")

    def test_it_verifies_on_request(self, db, simulator, monkeypatch):
        monkeypatch.setenv("OPENAI_ADMIN_KEY", SIM_ADMIN_KEY)
        out = io.StringIO()
        call_command(
            "org_add", "--name", "Acme", "--base-url", SIM_BASE_URL, "--verify", stdout=out
        )
        assert "Verified" in out.getvalue()
        assert Organization.objects.get().status == "ok"
