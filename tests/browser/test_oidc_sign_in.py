"""Single sign-on end to end, in Chromium, through a real OpenID Connect provider
(django-oauth-toolkit, tests/oidc_provider, in its own process): discovery, the authorization
code flow with PKCE, the ID token's signature checked against the provider's JWKS, the role from
the `groups` claim, and signing out."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model

from tests import oidc_provider as idp
from tests.browser.conftest import SERIOUS, axe_violations, screenshot
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_NAME = "Acme SSO"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_discovery(issuer: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the OpenID Connect provider stopped at start:\n{log.read_text()}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the OpenID Connect provider never answered:\n{log.read_text()}")


@pytest.fixture(scope="session")
def identity_provider(live_server, tmp_path_factory) -> Iterator[str]:
    """The provider's issuer URL: a separate process for the whole session, its redirect URI the
    live server's callback. It runs on 127.0.0.1 and the dashboard on localhost: two sites, as in
    production."""
    need_service(
        importlib.util.find_spec("oauth2_provider") is not None,
        "django-oauth-toolkit is not installed (the dev lock: make .venv/.dev)",
    )
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    callback = f"{live_server.url}/accounts/oidc/sso/login/callback/"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider", "--port", str(port),
             "--redirect-uri", callback],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=out,
        )  # fmt: skip
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        _wait_for_discovery(issuer, process, log)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def _use_provider(settings, issuer: str, client_id: str = idp.CLIENT_ID) -> None:
    """Single sign-on as the environment would configure it (OIDC_* in dashboard/settings.py)."""
    settings.OIDC_SERVER_URL = issuer
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_ROLE_MAP = "finance=Finance,dashboard-admins=Admin"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": settings.OIDC_PROVIDER_ID,
                    "name": PROVIDER_NAME,
                    "client_id": client_id,
                    "secret": idp.CLIENT_SECRET,
                    "settings": {"server_url": issuer, "scope": settings.OIDC_SCOPES},
                }
            ],
        }
    }


@pytest.fixture
def sso(settings, identity_provider) -> str:
    _use_provider(settings, identity_provider)
    return identity_provider


def _sign_in_at_the_provider(page, issuer: str) -> list[str]:
    """From the dashboard's sign-in page to the provider and through its sign-in and consent;
    returns the URLs of the authorization requests the browser made."""
    authorizations: list[str] = []
    authorize = f"{issuer}/authorize/"
    page.on("request", lambda r: r.url.startswith(authorize) and authorizations.append(r.url))
    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    page.wait_for_url(f"{issuer.removesuffix('/o')}/login/**")
    page.fill("#id_username", idp.USERNAME)
    page.fill("#id_password", idp.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/authorize/**")
    screenshot(page, "sso-provider-consent")
    page.get_by_role("button", name="Authorize").click()
    return authorizations


def test_it_signs_in_through_the_provider_with_pkce_and_the_role_its_groups_give(
    page, live_server, sso, org
):
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    authorizations = _sign_in_at_the_provider(page, sso)
    page.wait_for_url(f"{live_server.url}/**")
    page.wait_for_load_state()

    # The authorization code flow with PKCE: the browser carried a S256 challenge, never a token.
    assert authorizations
    query = parse_qs(urlsplit(authorizations[0]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [idp.CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert "openid" in query["scope"][0].split()
    assert not [u for u in urls if "id_token=" in u or "access_token=" in u]
    callbacks = [u for u in urls if "/accounts/oidc/sso/login/callback/" in u]
    assert callbacks
    assert set(parse_qs(urlsplit(callbacks[0]).query)) <= {"code", "state", "iss"}

    # A new person, provisioned from the claims, Finance from the group `finance`.
    menu = page.locator(".user-menu summary")
    assert menu.inner_text().startswith(idp.USERNAME)
    assert "Finance" in menu.inner_text()
    person = get_user_model().objects.get(username=idp.USERNAME)
    assert person.email == idp.EMAIL
    assert not person.has_usable_password()
    nav = page.locator("nav.sidebar")
    assert nav.get_by_role("link", name="Costs", exact=True).count() == 1
    assert nav.get_by_role("link", name="Connections", exact=True).count() == 0
    assert nav.get_by_role("link", name="Members", exact=True).count() == 0
    nav.get_by_role("link", name="Costs", exact=True).click()
    page.wait_for_url("**/costs/**")
    assert page.request.get("/connections/", max_redirects=0).status == 403
    assert page.request.get("/members/", max_redirects=0).status == 403
    screenshot(page, "sso-signed-in-finance")

    # Signing out ends the dashboard's session.
    menu.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    page.goto("/costs/")
    page.wait_for_url("**/accounts/login/**")
    assert page.locator(".user-menu").count() == 0
    assert page.js_errors == []


def test_it_refuses_an_id_token_its_jwks_cannot_verify(
    page, live_server, settings, identity_provider, org
):
    """The provider's `dashboard-forged` client gets ID tokens that name the published key but are
    signed with another: the sign-in stops on a page that says so, and nobody is signed in."""
    _use_provider(settings, identity_provider, client_id=idp.FORGED_CLIENT_ID)
    answers = []
    page.on(
        "response",
        lambda r: answers.append(r.status) if "/login/callback/" in r.url else None,
    )
    _sign_in_at_the_provider(page, identity_provider)
    page.wait_for_url(f"{live_server.url}/**")
    assert "/accounts/oidc/sso/login/callback/" in page.url  # not sent on, signed in
    assert page.get_by_role("heading", name="Single sign-on didn't work").is_visible()
    assert answers
    assert all(status < 500 for status in answers)
    assert "Back to sign in" in page.inner_text("main")
    assert axe_violations(page, impacts=SERIOUS) == []
    screenshot(page, "sso-forged-id-token-refused")
    assert not get_user_model().objects.filter(username=idp.USERNAME).exists()
    page.goto("/costs/")
    page.wait_for_url("**/accounts/login/**")


def test_sso_only_offers_nothing_but_the_provider(page, live_server, sso, settings, org):
    settings.SSO_ONLY = True
    page.goto("/accounts/login/")
    assert page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").is_visible()
    assert page.locator("#id_password").count() == 0
    assert page.locator("#id_login").count() == 0
    assert page.get_by_role("link", name="Administrator sign-in").is_visible()
    assert axe_violations(page, impacts=SERIOUS) == []
    screenshot(page, "sso-only-sign-in")

    _sign_in_at_the_provider(page, sso)
    page.wait_for_url(f"{live_server.url}/**")
    assert page.locator(".user-menu summary").inner_text().startswith(idp.USERNAME)
