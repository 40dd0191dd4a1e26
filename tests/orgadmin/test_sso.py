"""Single sign-on (OpenID Connect): roles from the identity provider's groups (OIDC_ROLE_MAP),
provisioning, and SSO_ONLY. The adapter is tested here with made-up claims; a real provider
signing in end to end is the service tier's job."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from allauth.core.exceptions import ImmediateHttpResponse
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.accounts.adapters import AccountAdapter, SocialAccountAdapter, sso_roles_apply
from orgadmin.accounts.oidc import RoleMapError, parse_role_map
from orgadmin.backends import roles_on
from orgadmin.models import ActionLog, GrantSource, RoleGrant
from orgadmin.services.roles import role_grant
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory

ROLE_MAP = "dashboard-admins=Admin,finance=Finance:Acme Prod,auditors=Auditor"


@pytest.fixture
def sso(settings):
    settings.OIDC_SERVER_URL = "https://idp.example.com/realms/acme"
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": settings.OIDC_PROVIDER_ID,
                    "name": "Acme SSO",
                    "client_id": "dashboard",
                    "secret": "s3cret",
                    "settings": {"server_url": settings.OIDC_SERVER_URL},
                }
            ],
        }
    }
    return settings


@pytest.fixture
def orgs(db):
    return (
        OrganizationFactory(name="Acme Prod"),
        OrganizationFactory(name="Acme Research"),
    )


def _grants(user) -> set[tuple[str, str | None, str]]:
    return {
        (g.role, g.org.name if g.org else None, g.source)
        for g in RoleGrant.objects.filter(user=user).select_related("org")
    }


def test_it_maps_groups_to_roles_and_replaces_only_what_sso_gave(sso, orgs):
    prod, research = orgs
    user = UserFactory(username="sam")
    role_grant(user=user, role=Role.ADMIN, org=research)  # given by an Admin, by hand

    # Keycloak sends groups as paths; a group that maps to nothing is ignored.
    sso_roles_apply(user=user, claims={"groups": ["/finance", "auditors", "/staff"]})
    assert _grants(user) == {
        ("Admin", "Acme Research", GrantSource.ADMIN),
        ("Finance", "Acme Prod", GrantSource.SSO),
        ("Auditor", None, GrantSource.SSO),
    }
    assert roles_on(user, prod) == {Role.FINANCE, Role.AUDITOR}

    # The next sign-in's groups replace what single sign-on gave, never the hand-given grant.
    sso_roles_apply(user=user, claims={"groups": "dashboard-admins"})
    assert _grants(user) == {
        ("Admin", "Acme Research", GrantSource.ADMIN),
        ("Admin", None, GrantSource.SSO),
    }
    line = ActionLog.objects.filter(action="role.sso_sync").first()
    assert "gave Admin on all connections" in line.summary
    assert "took Auditor on all connections, Finance on Acme Prod" in line.summary

    # No group at all: single sign-on's grants go, the Admin's stays; nothing changes twice.
    sso_roles_apply(user=user, claims={})
    assert _grants(user) == {("Admin", "Acme Research", GrantSource.ADMIN)}
    assert sso_roles_apply(user=user, claims={}) is False


def test_it_skips_a_connection_the_map_names_that_does_not_exist(sso, db, caplog):
    sso.OIDC_ROLE_MAP = "finance=Finance:Gone Inc,auditors=Auditor"
    user = UserFactory(username="tia")
    sso_roles_apply(user=user, claims={"groups": ["finance", "auditors"]})
    assert _grants(user) == {("Auditor", None, GrantSource.SSO)}
    assert "Gone Inc" in caplog.text


def test_the_adapter_applies_the_claims_of_an_oidc_sign_in(sso, orgs, rf):
    """What allauth hands the adapter after a sign-in: the ID token's and userinfo's claims."""
    user = UserFactory(username="uma")
    account = SimpleNamespace(
        provider=sso.OIDC_PROVIDER_ID,
        extra_data={"id_token": {"sub": "1", "groups": ["finance"]}, "userinfo": {"sub": "1"}},
    )
    request = rf.get("/")
    request.session = {}
    request.user = user
    adapter = AccountAdapter(request)
    adapter.post_login(
        request,
        user,
        email_verification="none",
        signal_kwargs={"sociallogin": SimpleNamespace(account=account)},
        email=None,
        signup=True,
        redirect_url="/",
    )
    assert _grants(user) == {("Finance", "Acme Prod", GrantSource.SSO)}


def test_a_role_claim_other_than_groups_can_be_named(sso, orgs):
    sso.OIDC_ROLE_CLAIM = "roles"
    user = UserFactory(username="vic")
    sso_roles_apply(user=user, claims={"roles": ["auditors"], "groups": ["dashboard-admins"]})
    assert _grants(user) == {("Auditor", None, GrantSource.SSO)}


@pytest.mark.parametrize(
    "text",
    ["admins", "admins=Owner", "=Admin", "admins=:Acme"],
)
def test_it_refuses_a_role_map_it_cannot_read(text):
    with pytest.raises(RoleMapError):
        parse_role_map(text)


def test_it_reads_a_role_map():
    rules = parse_role_map(ROLE_MAP + ", ")
    assert [(r.group, r.role, r.connection) for r in rules] == [
        ("dashboard-admins", Role.ADMIN, None),
        ("finance", Role.FINANCE, "Acme Prod"),
        ("auditors", Role.AUDITOR, None),
    ]


def test_it_provisions_on_a_first_sign_in_only_when_told_to(sso, rf, db):
    adapter = SocialAccountAdapter(rf.get("/"))
    assert adapter.is_open_for_signup(rf.get("/"), None) is True
    sso.OIDC_AUTO_PROVISION = False
    assert adapter.is_open_for_signup(rf.get("/"), None) is False
    # An address an account here has already (unconfirmed by the provider): a page says so.
    UserFactory(username="wes", email="wes@example.com")
    login = SimpleNamespace(email_addresses=[SimpleNamespace(email="WES@example.com")])
    with pytest.raises(ImmediateHttpResponse) as refused:
        adapter.is_auto_signup_allowed(rf.get("/"), login)
    assert refused.value.response.status_code == 409
    assert "wes@example.com" in refused.value.response.content.decode().lower()
    fresh = SimpleNamespace(email_addresses=[SimpleNamespace(email="new@example.com")])
    assert adapter.is_auto_signup_allowed(rf.get("/"), fresh) is True


# --- the sign-in page ------------------------------------------------------------------------


def test_the_sign_in_page_offers_sso_beside_the_password(sso, db):
    page = Client().get(reverse("login")).content.decode()
    assert "Sign in with Acme SSO" in page
    assert f'action="{reverse("openid_connect_login")}"' in page
    assert 'id="id_password"' in page


def test_the_pages_with_an_sso_button_let_it_lead_to_the_provider(sso, db):
    """The button posts here and is redirected to the provider: the browser holds that redirect
    to the page's CSP form-action (tests/browser/test_oidc_sign_in.py follows it in Chromium)."""
    for url in (reverse("login"), reverse("openid_connect_login")):
        policy = Client().get(url)["Content-Security-Policy"]
        assert "form-action 'self' https://idp.example.com;" in policy + ";"
    sso.OIDC_SERVER_URL = ""
    policy = Client().get(reverse("login"))["Content-Security-Policy"]
    assert "form-action 'self';" in policy + ";"


def test_sso_only_hides_the_password_but_lets_a_superuser_in(sso, db):
    sso.SSO_ONLY = True
    page = Client().get(reverse("login")).content.decode()
    assert "Sign in with Acme SSO" in page
    assert 'id="id_password"' not in page
    assert "Administrator sign-in" in page
    assert 'id="id_password"' in Client().get(reverse("login") + "?admin").content.decode()

    # Anyone else's right password is refused like a wrong one, and counted by the lock-out.
    person = UserFactory(username="xena")
    client = Client()
    refused = client.post(reverse("login"), {"login": "xena", "password": TEST_PASSWORD})
    assert refused.status_code == 200
    assert "Please enter a correct username and password" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=person.username).exists()

    root = UserFactory(username="root", is_superuser=True)
    client = Client()
    response = client.post(reverse("login"), {"login": "root", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(root.pk)


def test_it_signs_in_by_email_too(db):
    user = UserFactory(username="yann", email="yann@example.com")
    client = Client()
    response = client.post(
        reverse("login"), {"login": "Yann@Example.COM", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_sso_person_steps_up_by_signing_in_again_at_the_provider(sso, db):
    from allauth.socialaccount.models import SocialAccount

    user = UserFactory(username="zoe")
    user.set_unusable_password()
    user.save()
    SocialAccount.objects.create(user=user, provider=sso.OIDC_PROVIDER_ID, uid="zoe-1")
    methods = AccountAdapter().get_reauthentication_methods(user)
    assert [m["url"] for m in methods] == [reverse("openid_connect_login")]
