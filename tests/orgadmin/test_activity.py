"""Our own action log: who did what, to what, when, with OpenAI's request id and the outcome."""

from __future__ import annotations

import html

from django.urls import reverse

from tests.factories import OrganizationFactory
from tests.orgadmin.conftest import HX


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_it_lists_what_an_admin_did_with_the_request_id_and_outcome(
    client_as, admin, auditor, synced, store
):
    user = next(u for u in store.users.values() if u.role == "reader")
    client_as(admin).post(
        reverse("orgadmin:member_role", args=[user.id]), {"role": "owner"}, headers=HX
    )
    del store.users[user.id]  # gone elsewhere: the next change fails at the API
    client_as(admin).post(reverse("orgadmin:member_remove", args=[user.id]), headers=HX)

    page = text(client_as(auditor).get(reverse("orgadmin:activity")))
    assert f"Changed the role of {user.name} from reader to owner" in page
    assert f"Removed {user.name} ({user.email}) from the organization" in page
    assert "Succeeded" in page
    assert "Failed" in page
    assert "HTTP 404" in page
    assert page.count("req_") >= 2
    assert "alice-admin" in page


def test_it_filters_the_action_log(client_as, auditor, db):
    from tests.orgadmin.cache import fill_cache

    org = OrganizationFactory(name="Acme")
    fill_cache(org, actions=12)
    c = client_as(auditor)
    failed = text(c.get(reverse("orgadmin:activity"), {"outcome": "error"}, headers=HX))
    assert failed.count("badge-error") == 3  # changes 0, 5 and 10 failed
    assert "<html" not in failed
    one = text(c.get(reverse("orgadmin:activity"), {"q": "req_000007"}))
    assert "(change 7)" in one
    assert "(change 8)" not in one
    assert "No action matches these filters." in text(
        c.get(reverse("orgadmin:activity"), {"q": "zzz"})
    )


def test_it_is_not_for_finance(client_as, finance, db):
    assert client_as(finance).get(reverse("orgadmin:activity")).status_code == 403
