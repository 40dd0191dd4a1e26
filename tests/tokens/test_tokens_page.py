"""The Access tokens page: anyone signed in makes, sees and revokes their own tokens; a new one is
shown once and never again; bad input is a message on the page; and no log holds a token."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.logging import RedactingFormatter
from orgadmin.models import ActionLog
from orgadmin.tokens import services
from orgadmin.tokens.models import AccessToken
from tests.factories import OrganizationFactory, UserFactory
from tests.orgadmin.conftest import HX

pytestmark = pytest.mark.django_db

PAGE = "/tokens/"
SECRET = re.compile(r"odt_[A-Za-z0-9_-]{43}")


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme")


def _person(org, role: Role | None, name: str = "pat"):
    return UserFactory(username=name, roles_on={org: role} if role else {})


def _create(client: Client, name: str = "Power BI", days: str = "90", **headers):
    return client.post(reverse("access_token_create"), {"name": name, "days": days}, **headers)


@pytest.mark.parametrize(
    ("role", "offered", "not_offered"),
    [
        (Role.ADMIN, ["Costs, daily rows (CSV)", "Audit log (CSV)"], []),
        (Role.FINANCE, ["Costs, daily rows (CSV)", "Usage, daily rows (JSON)"], ["Audit log"]),
        (Role.AUDITOR, ["Audit log (CSV)", "Action log (CSV)"], ["Costs, daily rows"]),
        (None, ["give no export to read"], ["Costs, daily rows", "Audit log"]),
    ],
)
def test_every_signed_in_person_has_the_page_with_the_exports_their_roles_read(
    role, offered, not_offered, org, client_as
):
    response = client_as(_person(org, role)).get(PAGE)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Create a token" in text
    for label in offered:
        assert label in text
    for label in not_offered:
        assert label not in text
    if role in (Role.ADMIN, Role.FINANCE):
        assert f"/costs/export.csv?org={org.pk}" in text


def test_signed_out_it_asks_to_sign_in(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_user_menu_leads_to_it(org, client_as):
    assert f'href="{PAGE}"' in client_as(_person(org, Role.AUDITOR)).get("/").content.decode()


def test_a_new_token_is_shown_once_and_only_its_mask_after(org, client_as):
    person = _person(org, Role.FINANCE)
    client = client_as(person)

    created = _create(client)

    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    (secret,) = set(SECRET.findall(created.content.decode()))
    token = AccessToken.objects.get(user=person)
    assert (token.name, token.masked) == ("Power BI", f"odt_…{secret[-4:]}")
    later = client.get(PAGE).content.decode()
    assert secret not in later
    assert SECRET.search(later) is None
    assert token.masked in later
    line = ActionLog.objects.get(action="token.create")
    assert (line.actor, line.resource_id) == (person, token.masked)
    assert secret not in line.summary


def test_it_lives_as_long_as_was_chosen(org, client_as):
    person = _person(org, Role.FINANCE)
    _create(client_as(person), days="30")

    token = AccessToken.objects.get(user=person)

    assert (token.expires_at - token.created_at).days == 30


def test_the_htmx_answer_is_the_form_card_with_the_token_and_tells_the_list(org, client_as):
    response = _create(client_as(_person(org, Role.FINANCE)), headers=HX)

    text = response.content.decode()
    assert text.lstrip().startswith('<article id="token-form"')
    assert SECRET.search(text)
    assert "directoryChanged" in response["HX-Trigger"]


def test_creating_one_asks_for_a_recent_sign_in(org):
    person = _person(org, Role.FINANCE)
    client = Client()
    client.force_login(person)  # a session with no recent password or code

    response = _create(client)

    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("name", "days", "says"),
    [
        ("", "90", "This field is required."),
        ("   ", "90", "This field is required."),
        ("x" * 101, "90", "at most 100 characters"),
        ("Power BI", "", "This field is required."),
        ("Power BI", "9999", "Select a valid choice"),
        ("Power BI", "ninety", "Select a valid choice"),
        ("Power BI", "-30", "Select a valid choice"),
        ("nul\x00byte", "90", "Null characters are not allowed."),
    ],
)
def test_bad_input_is_a_message_on_the_page_and_no_token(name, days, says, org, client_as):
    response = _create(client_as(_person(org, Role.FINANCE)), name=name, days=days)

    assert response.status_code == 200
    assert says in response.content.decode()
    assert not AccessToken.objects.exists()


def test_no_token_outlives_the_longest_the_settings_allow(org, client_as, settings):
    settings.ACCESS_TOKEN_MAX_DAYS = 60
    client = client_as(_person(org, Role.FINANCE))

    offered = client.get(PAGE).content.decode()
    refused = _create(client, days="90")
    _create(client, name="Longest", days="60")

    assert 'value="60"' in offered
    assert 'value="90"' not in offered
    assert "Select a valid choice" in refused.content.decode()
    (token,) = AccessToken.objects.all()
    assert (token.name, (token.expires_at - token.created_at).days) == ("Longest", 60)


def test_two_active_tokens_of_one_person_have_two_names(org, client_as):
    client = client_as(_person(org, Role.FINANCE))
    _create(client)

    again = _create(client, name="  Power   BI ")

    assert "You already have an active token named “Power BI”." in again.content.decode()
    assert AccessToken.objects.count() == 1


def test_one_person_holds_a_bounded_number_of_active_tokens(org, client_as):
    person = _person(org, Role.FINANCE)
    for n in range(services.MAX_ACTIVE):
        services.token_create(user=person, name=f"t{n}", days=30)

    refused = _create(client_as(person), name="one more")

    assert f"You have {services.MAX_ACTIVE} active tokens" in refused.content.decode()
    assert AccessToken.objects.filter(user=person).count() == services.MAX_ACTIVE


def test_revoking_a_token_turns_it_away_from_then_on(org, client_as):
    person = _person(org, Role.FINANCE)
    token, secret = services.token_create(user=person, name="Tableau", days=30)
    client = client_as(person)

    response = client.post(reverse("access_token_revoke"), {"token_id": token.pk}, follow=True)

    assert "Revoked the token “Tableau”" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ">Revoked</span>" in client.get(PAGE).content.decode()
    use = Client(headers={"Authorization": f"Bearer {secret}"}).get("/costs/export.csv")
    assert use.status_code == 401
    line = ActionLog.objects.get(action="token.revoke")
    assert (line.actor, line.resource_id) == (person, token.masked)


def test_nobody_sees_or_revokes_anyone_elses_token(org, client_as):
    owner = _person(org, Role.ADMIN, "owner")
    token, _secret = services.token_create(user=owner, name="Owner's BI", days=30)
    other = client_as(_person(org, Role.ADMIN, "other"))

    assert "Owner&#x27;s BI" not in other.get(PAGE).content.decode()
    for junk in (token.pk, "", "abc", "-1", "1e3", str(10**30), "\x00", "²", "١"):
        response = other.post(reverse("access_token_revoke"), {"token_id": junk})
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_no_log_holds_a_token(org, client_as, caplog):
    person = _person(org, Role.FINANCE)
    client = client_as(person)
    caplog.set_level(logging.DEBUG)

    created = _create(client).content.decode()
    (secret,) = set(SECRET.findall(created))
    bearer = Client(headers={"Authorization": f"Bearer {secret}"})
    bearer.get("/costs/export.csv")  # a use
    bearer.post("/costs/export.csv")  # 403
    bearer.get(f"/people/?token={secret}")  # 403, the token in the URL too
    AccessToken.objects.update(revoked_at="2025-01-01T00:00Z")
    bearer.get("/costs/export.csv")  # 401

    assert caplog.records  # the refusals were logged (django.request), without the token
    assert secret not in caplog.text
    assert secret not in "".join(str(r.args) for r in caplog.records)
    assert not ActionLog.objects.filter(summary__contains=secret[4:]).exists()


def test_the_log_formatter_redacts_a_token_wherever_it_is():
    secret = "odt_" + "Zq9-_" * 8 + "abc"
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "GET /costs/export.csv?t=%s failed for %s", None, None
    )
    record.args = (secret, f"Authorization: Bearer {secret}")

    line = RedactingFormatter().format(record)

    assert secret not in line
    assert line.count("[redacted key]") == 2
    assert "odt_…abcd" in RedactingFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "token odt_…abcd", None, None)
    )  # the mask stays readable
