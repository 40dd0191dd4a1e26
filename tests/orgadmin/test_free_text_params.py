"""Parameters some views read without a form: a search box, the audit drawer's event, the member
type-ahead, a form's `next`. Whatever they hold, the page answers (PostgreSQL can't hold a NUL in
text: these were 500s there), and an id that can't be one is refused before the SDK sees it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orgadmin.client import OrgAPIError, admin_client, api_errors
from tests.orgadmin.cache import fill_cache

NASTY = ["a\x00b", "\x00", "\x01\x7f", "  ", "é" * 500, "../..", "%00"]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize(
    ("url", "param", "user"),
    [
        ("orgadmin:groups", "q", "admin"),
        ("orgadmin:audit_log", "event", "auditor"),
        ("orgadmin:member_suggestions", "user", "admin"),
    ],
)
def test_it_answers_a_free_text_parameter_whatever_it_holds(
    client_as, admin, auditor, org, url, param, user, value
):
    fill_cache(org, users=3, projects=1)
    who = {"admin": admin, "auditor": auditor}[user]

    response = client_as(who).get(reverse(url), {param: value})

    assert response.status_code == 200


def test_it_sends_a_form_back_to_a_next_that_is_a_plain_word_without_a_500(client_as, admin, org):
    fill_cache(org, users=3, projects=1)

    response = client_as(admin).post(
        reverse("orgadmin:certificates_toggle"), {"next": "abc", "action": "activate"}
    )

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == "abc"


def test_it_refuses_a_dot_segment_id_from_anywhere_without_sending_it(org):
    with pytest.raises(OrgAPIError) as refused, api_errors():
        admin_client(org).projects.retrieve("..")

    assert refused.value.code == "invalid_id"
    assert "id" in refused.value.message
