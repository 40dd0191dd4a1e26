"""Step-up re-authentication before the most dangerous actions: a password or a TOTP code from
the last ACCOUNT_REAUTHENTICATION_TIMEOUT seconds (a sign-in that recent counts)."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows import login as records
from django.test import Client
from django.urls import reverse

from orgadmin.accounts.stepup import step_up_required
from tests.factories import TEST_PASSWORD
from tests.orgadmin.conftest import HX
from tests.orgadmin.test_sign_in_mfa import SECRET, code_for, enrol

REAUTH = reverse("account_reauthenticate")


def signed_in_long_ago(client: Client, seconds: float) -> None:
    """Move the session's sign-in back by `seconds`."""
    session = client.session
    for record in session[records.AUTHENTICATION_METHODS_SESSION_KEY]:
        record["at"] = time.time() - seconds
    session.save()


@pytest.fixture
def stale(as_admin, settings):
    """An Admin who signed in longer ago than the step-up window."""
    signed_in_long_ago(as_admin, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)
    return as_admin


def _dangerous(org) -> list[tuple[str, dict]]:
    return [
        (reverse("orgadmin:admin_key_create"), {"name": "x"}),
        (reverse("orgadmin:connections"), {"name": "B", "base_url": "", "admin_key": "sk-x"}),
        (reverse("orgadmin:connection_key", args=[org.pk]), {"admin_key": "sk-admin-new"}),
    ]


def test_it_asks_to_confirm_before_each_dangerous_action_after_the_timeout(stale, synced, store):
    before = dict(store.admin_keys)
    for url, data in _dangerous(synced):
        response = stale.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"] == f"{REAUTH}?next={url.replace('/', '%2F')}"
    key = next(iter(before.values()))
    delete = reverse("orgadmin:admin_key_delete", args=[key.id])
    assert stale.post(delete)["Location"].startswith(REAUTH)
    assert store.admin_keys == before  # nothing was created or deleted


def test_it_answers_an_htmx_request_with_a_redirect_back_to_its_page(stale, synced, store):
    page = "http://testserver" + reverse("orgadmin:admin_keys") + "?sort=name"
    response = stale.post(
        reverse("orgadmin:admin_key_create"),
        {"name": "x"},
        headers={**HX, "HX-Current-URL": page},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{REAUTH}?next=%2Fkeys%2Fadmin%2F%3Fsort%3Dname"
    assert not any(k.name == "x" for k in store.admin_keys.values())
    # The page it leads to says why.
    assert "Confirm it's you" in stale.get(response["HX-Redirect"]).content.decode()


def test_it_does_the_action_once_the_password_is_confirmed(stale, synced, store):
    url = reverse("orgadmin:admin_key_create")
    stale.post(url, {"name": "after-confirming"})
    wrong = stale.post(f"{REAUTH}?next={url}", {"password": "wrong", "next": url})
    assert wrong.status_code == 200
    assert not any(k.name == "after-confirming" for k in store.admin_keys.values())
    # The confirmed password replays the form that was held back: the key is made, shown once.
    done = stale.post(f"{REAUTH}?next={url}", {"password": TEST_PASSWORD, "next": url})
    key = next(k for k in store.admin_keys.values() if k.name == "after-confirming")
    assert key.value in done.content.decode()
    # Within the window, the next one goes straight through.
    stale.post(url, {"name": "second"}, headers=HX)
    assert any(k.name == "second" for k in store.admin_keys.values())


def test_a_totp_code_confirms_too(stale, admin, synced, store):
    enrol(admin)
    url = reverse("orgadmin:admin_key_create")
    reauth = reverse("mfa_reauthenticate")
    response = stale.post(reauth, {"code": code_for(SECRET), "next": url})
    assert response.status_code == 302
    stale.post(url, {"name": "by-code"}, headers=HX)
    assert any(k.name == "by-code" for k in store.admin_keys.values())


def test_it_asks_nothing_within_the_timeout(as_admin, synced, store):
    response = as_admin.post(reverse("orgadmin:admin_key_create"), {"name": "fresh"}, headers=HX)
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert any(k.name == "fresh" for k in store.admin_keys.values())


def test_it_lets_pages_be_read_without_confirming(stale, synced):
    for url in (reverse("orgadmin:connections"), reverse("orgadmin:admin_key_create")):
        assert stale.get(url).status_code == 200


def test_the_decorator_guards_writes_only(rf, admin):
    """For views to come (changing someone's dashboard role): GET passes, POST asks."""
    from allauth.core.exceptions import ReauthenticationRequired

    view = step_up_required(lambda request: "done")
    request = rf.get("/")
    request.user = admin
    request.session = {}
    assert view(request) == "done"
    post = rf.post("/")
    post.user = admin
    post.session = {}
    with pytest.raises(ReauthenticationRequired):
        view(post)
