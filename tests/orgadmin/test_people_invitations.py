"""Inviting a colleague from People (issue 17, item 1): a mail with a link that works once,
expires, can be revoked and resent (the older link then stops working); accepting it sets a
username and a password, gives the role and signs the person in."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgadmin.access import Role
from orgadmin.models import ActionLog, Invitation, RoleGrant
from orgadmin.models.people import token_hash
from tests.factories import OrganizationFactory, UserFactory
from tests.orgadmin.conftest import HX, changed
from tests.orgadmin.test_sign_in_mfa import enrol
from tests.orgadmin.test_step_up import REAUTH, signed_in_long_ago

INVITE = reverse("orgadmin:people_invite")
PASSWORD = "violet otter carries 7 lamps"
ACCEPT_FORM = reverse("orgadmin:people_accept", args=["invitation"])


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme Prod")


def _link(message) -> str:
    """The path of the invitation link in a mail."""
    found = re.search(r"https?://testserver(/people/accept/[A-Za-z0-9_\-]+/)", message.body)
    assert found, message.body
    return found.group(1)


def _invite(client, acme, email="Ann.Lee@Example.COM", role="Finance", **headers):
    return client.post(
        INVITE, {"email": email, "role": role, "connection": acme.pk}, headers=headers or None
    )


def _accept(client, link, **data):
    client.get(link)
    body = {"username": "ann", "name": "Ann Lee", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(ACCEPT_FORM, {**body, **data})


def test_it_invites_by_mail_with_a_link_that_only_the_mail_holds(client_as, admin, acme):
    response = _invite(client_as(admin), acme, **HX)
    assert response.status_code == 200
    assert changed(response)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann.lee@example.com"]  # lower case, as allauth's sign-in reads it
    assert "Finance on Acme Prod" in message.body
    link = _link(message)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.org) == (
        "ann.lee@example.com",
        "Finance",
        acme,
    )
    assert invitation.token_hash == token_hash(token)
    assert token not in invitation.token_hash
    assert invitation.expires_at - invitation.sent_at == dt.timedelta(days=7)
    # The demo's mail goes nowhere: the new link is on the page, this once.
    assert token in response.content.decode()
    page = client_as(admin).get(reverse("orgadmin:people")).content.decode()
    assert token not in page
    assert "ann.lee@example.com" in page
    assert "Pending" in page
    line = ActionLog.objects.get(action="person.invite")
    assert (line.org, line.summary) == (
        acme,
        "Invited ann.lee@example.com as Finance on Acme Prod.",
    )
    assert token not in line.summary


def test_production_mail_never_shows_the_link(client_as, admin, acme, settings):
    settings.EMAIL_BACKEND = "tests.orgadmin.test_people_invitations.OutboxSMTP"
    response = _invite(client_as(admin), acme, **HX)
    token = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert token not in response.content.decode()


class OutboxSMTP:
    """Stands for an SMTP backend: delivers to mail.outbox, isn't a local one."""

    def __new__(cls, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        return EmailBackend(*args, **kwargs)


def test_a_mail_server_refusal_is_said_and_logged(client_as, admin, acme, settings):
    settings.EMAIL_BACKEND = "tests.orgadmin.test_people_invitations.RefusingSMTP"
    _invite(client_as(admin), acme)
    page = client_as(admin).get(reverse("orgadmin:people")).content.decode()
    assert "Pending" in page  # the invitation stands: Resend once mail works
    failed = ActionLog.objects.get(action="person.invite_mail")
    assert failed.outcome == "error"
    assert "551" in failed.error


class RefusingSMTP:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"x": (551, b"no such user")})


def test_bad_input_is_answered_beside_the_field(client_as, admin, acme):
    client = client_as(admin)
    UserFactory(username="bob", email="bob@example.com")
    cases = {
        "not-an-email": "Enter a valid email address.",
        "BOB@example.com": "Someone here signs in with this address already",
    }
    for email, said in cases.items():
        response = _invite(client, acme, email=email, **HX)
        body = html.unescape(response.content.decode())
        assert said in body
        assert re.search(r'id="id_email_error"[^>]*>[^<]*' + re.escape(said[:20]), body), email
    response = _invite(client, acme, role="Owner", **HX)
    assert 'id="id_role_error"' in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    _invite(client, acme, email="carl@example.com")
    again = _invite(client, acme, email="carl@example.com", **HX)
    assert "pending invitation" in again.content.decode()
    assert Invitation.objects.count() == 1


def test_inviting_needs_a_recent_password_or_code(client_as, admin, acme):
    client = client_as(admin)
    signed_in_long_ago(client, 3600)
    assert _invite(client, acme)["Location"].startswith(REAUTH)
    assert not Invitation.objects.exists()


def test_accepting_sets_a_password_gives_the_role_and_signs_in(client_as, admin, acme):
    _invite(client_as(admin), acme)
    link = _link(mail.outbox[0])
    visitor = Client()
    moved = visitor.get(link)
    assert moved.status_code == 302
    assert moved["Location"] == ACCEPT_FORM
    form = visitor.get(ACCEPT_FORM).content.decode()
    assert "ann.lee@example.com" in form
    assert "Finance" in form
    assert "Acme Prod" in form
    assert 'value="ann.lee"' in form  # a username suggested from the address
    done = _accept(visitor, link)
    assert done.status_code == 302
    assert done["Location"] == reverse("home")

    ann = get_user_model().objects.get(username="ann")
    assert (ann.email, ann.get_full_name()) == ("ann.lee@example.com", "Ann Lee")
    assert ann.check_password(PASSWORD)
    assert EmailAddress.objects.filter(
        user=ann, email="ann.lee@example.com", verified=True, primary=True
    ).exists()
    assert [(g.role, g.org) for g in RoleGrant.objects.filter(user=ann)] == [("Finance", acme)]
    assert visitor.session["_auth_user_id"] == str(ann.pk)
    assert visitor.get(reverse("costs")).status_code == 200
    line = ActionLog.objects.first()
    assert (line.action, line.actor, line.org) == ("person.invite_accept", ann, acme)
    # Signing in again works with the email, in any case, and the new password.
    fresh = Client()
    fresh.post(reverse("login"), {"login": "ANN.LEE@example.com", "password": PASSWORD})
    assert fresh.session.get("_auth_user_id") == str(ann.pk)


def test_the_link_works_once(client_as, admin, acme):
    _invite(client_as(admin), acme)
    link = _link(mail.outbox[0])
    _accept(Client(), link)
    again = Client()
    again.get(link)
    page = again.get(ACCEPT_FORM)
    assert page.status_code == 410
    assert "This invitation was used already" in page.content.decode()
    assert _accept(again, link, username="ann2").status_code == 410
    assert get_user_model().objects.filter(email="ann.lee@example.com").count() == 1


def test_an_expired_link_says_so(client_as, admin, acme):
    _invite(client_as(admin), acme)
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    visitor = Client()
    visitor.get(_link(mail.outbox[0]))
    page = visitor.get(ACCEPT_FORM)
    assert page.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    listed = client_as(admin).get(reverse("orgadmin:people")).content.decode()
    assert "Expired" in listed  # still listed, to resend


def test_a_revoked_link_says_so(client_as, admin, acme):
    _invite(client_as(admin), acme)
    invitation = Invitation.objects.get()
    revoked = client_as(admin).post(
        reverse("orgadmin:invitation_revoke", args=[invitation.pk]), headers=HX
    )
    assert changed(revoked)
    visitor = Client()
    visitor.get(_link(mail.outbox[0]))
    page = visitor.get(ACCEPT_FORM)
    assert page.status_code == 410
    assert "This invitation was revoked" in page.content.decode()
    assert ActionLog.objects.first().action == "person.invite_revoke"
    assert (
        "ann.lee@example.com"
        not in client_as(admin).get(reverse("orgadmin:people")).content.decode()
    )


def test_resending_mails_a_new_link_and_the_old_one_stops_working(client_as, admin, acme):
    client = client_as(admin)
    _invite(client, acme)
    old = _link(mail.outbox[0])
    invitation = Invitation.objects.get()
    Invitation.objects.update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )  # expired: resendable
    response = client.post(reverse("orgadmin:invitation_resend", args=[invitation.pk]), headers=HX)
    assert changed(response)
    assert len(mail.outbox) == 2
    new = _link(mail.outbox[1])
    assert new != old
    assert new.rsplit("/", 2)[1] in response.content.decode()
    visitor = Client()
    visitor.get(old)
    page = visitor.get(ACCEPT_FORM)
    assert page.status_code == 404
    assert "doesn't work" in page.content.decode()
    assert _accept(Client(), new).status_code == 302
    assert ActionLog.objects.filter(action="person.invite_resend").exists()


def test_nonsense_tokens_get_a_clear_page_never_a_500(db):
    # Well-formed but unknown (or nothing in the session yet): the page says the link is wrong.
    for token in ["x", "A" * 200, "invitation"]:
        page = Client().get(f"/people/accept/{token}/", follow=True)
        assert page.status_code == 404, token
        assert "This invitation link doesn't work" in html.unescape(page.content.decode())
    # No token looks like these: no view is reached.
    for token in ["a" * 201, "%00", "..", "%2E%2E", "ÿ" * 40, "a.b"]:
        assert Client().get(f"/people/accept/{token}/").status_code == 404, token


def test_accepting_checks_the_username_and_the_password_beside_each_field(client_as, admin, acme):
    UserFactory(username="taken")
    _invite(client_as(admin), acme)
    link = _link(mail.outbox[0])
    visitor = Client()
    cases = [
        ({"username": "Taken"}, "id_username_error", "This username is taken"),
        ({"username": "a b/c"}, "id_username_error", "Enter a valid username"),
        ({"password2": "something else 12"}, "id_password2_error", "The two passwords differ"),
        ({"password1": "password", "password2": "password"}, "id_password1_error", "too common"),
        (
            {"password1": "ann.lee.example", "password2": "ann.lee.example"},
            "id_password1_error",
            "too similar",
        ),
    ]
    for data, field, said in cases:
        page = _accept(visitor, link, **data)
        assert page.status_code == 200, data
        body = html.unescape(page.content.decode())
        assert re.search(f'id="{field}"[^>]*>[^<]*{re.escape(said)}', body), (data, body[-3000:])
    assert not get_user_model().objects.filter(email="ann.lee@example.com").exists()


def test_someone_signed_in_signs_out_before_accepting(client_as, admin, acme):
    _invite(client_as(admin), acme)
    link = _link(mail.outbox[0])
    other = client_as(UserFactory(username="someone", role=Role.AUDITOR))
    other.get(link)
    page = other.get(ACCEPT_FORM).content.decode()
    assert "You're signed in already" in page
    out = other.post(ACCEPT_FORM, {"sign_out": "1"})
    assert out["Location"] == ACCEPT_FORM
    assert "_auth_user_id" not in other.session
    assert "Choose a username" in other.get(ACCEPT_FORM).content.decode()


def test_an_admin_invitee_enrols_totp_first_when_required(client_as, admin, acme, settings):
    settings.REQUIRE_MFA_FOR_ADMINS = True
    enrol(admin)
    _invite(client_as(admin), acme, role="Admin")
    visitor = Client()
    _accept(visitor, _link(mail.outbox[0]))
    assert visitor.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")


def test_an_admin_of_one_connection_invites_to_it_only(client_as, acme):
    other = OrganizationFactory(name="Acme Research")
    boss = client_as(UserFactory(username="boss", roles_on={acme: Role.ADMIN}))
    refused = boss.post(
        INVITE, {"email": "x@example.com", "role": "Finance", "connection": other.pk}, headers=HX
    )
    assert 'id="id_connection_error"' in refused.content.decode()
    everywhere = boss.post(
        INVITE, {"email": "x@example.com", "role": "Finance", "connection": "all"}, headers=HX
    )
    assert 'id="id_connection_error"' in everywhere.content.decode()
    assert not Invitation.objects.exists()
    assert changed(_invite(boss, acme, **HX))
    invitation = Invitation.objects.get()
    assert invitation.org == acme
    # An invitation to another connection is none of theirs: 404.
    theirs = Invitation.objects.create(
        email="y@example.com",
        role="Finance",
        org=other,
        token_hash="1" * 64,
        expires_at=invitation.expires_at,
    )
    assert boss.post(reverse("orgadmin:invitation_revoke", args=[theirs.pk])).status_code == 404


def test_under_sso_only_the_invitee_sets_no_password(client_as, admin, acme, settings):
    settings.SSO_ONLY = True
    settings.OIDC_SERVER_URL = "https://sso.example.com"
    _invite(client_as(admin), acme)
    visitor = Client()
    visitor.get(_link(mail.outbox[0]))
    assert "password1" not in visitor.get(ACCEPT_FORM).content.decode()
    done = visitor.post(ACCEPT_FORM, {"username": "ann"})
    assert done["Location"] == reverse("login")
    ann = get_user_model().objects.get(username="ann")
    assert not ann.has_usable_password()
    assert RoleGrant.objects.filter(user=ann, org=acme, role="Finance").exists()
