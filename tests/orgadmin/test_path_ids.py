"""An OpenAI id in a URL is an id, never a path: `..`, `%2E%2E`, `a%2Fb` and other ids no API
hands out answer 404 before any view runs (the SDK refuses dot segments with a ValueError, which
was a 500). Every URL that takes an id is tried, as an Admin, with each of its methods."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from tests.orgadmin.test_bad_input import _samples
from tests.test_access_matrix import ACCESS, url_patterns

# Not OpenAI ids: a connection's primary key, an export format and a page's tab; our own
# people, their grants and invitations (numbers), and the secrets of invitation and password
# reset links (never looked up as a path).
NOT_API_IDS = {
    "pk",
    "fmt",
    "tab",
    "person_id",
    "grant_id",
    "invitation_id",
    "channel_id",  # an alert channel's (dashboard/alerts), an <int:>
    "budget_id",  # a budget's (dashboard/budgets), an <int:>
    "centre_id",  # a cost centre's, an assignment's, a rule's (dashboard/chargeback), <int:>s
    "assignment_id",
    "rule_id",
    "alert_pk",  # an alert of the inbox (dashboard/alerts), an <int:>
    "finding_id",  # a hygiene finding's (orgadmin/hygiene), an <int:>
    "campaign_id",  # an access review's (orgadmin/reviews), an <int:>
    "token",
    "uidb36",
    "key",
}
# Audit events are looked up in our own table only, never through the SDK: tested on their own.
LOCAL_IDS = {"event_id"}
# As typed into the address bar. The test client, like a server, decodes %2E and %2F.
PATH_LIKE = ["%2E%2E", "..", ".", "%2e", "a%2Fb", "%252E%252E", "%00", "a%00b", "x" * 300]
PLACEHOLDER = "ID-PLACEHOLDER"


def _id_urls(samples: dict[str, str]) -> list[tuple[str, str, str]]:
    """(url name, id argument, URL with PLACEHOLDER in that argument) for every id-taking URL."""
    found = []
    for name, pattern in url_patterns().items():
        ids = [k for k in pattern.pattern.converters if k not in NOT_API_IDS | LOCAL_IDS]
        for arg in ids:
            kwargs = {k: samples[k] for k in pattern.pattern.converters} | {arg: PLACEHOLDER}
            found.append((name, arg, reverse(name, kwargs=kwargs)))
    return found


@pytest.mark.django_db
def test_it_answers_404_to_a_path_like_id_in_every_url_that_takes_one(
    synced, store, client_as, admin, settings
):
    settings.OPENAI_MAX_RETRIES = 0
    client = client_as(admin)
    urls = _id_urls({**_samples(store), "pk": synced.pk, "fmt": "csv"})
    assert len(urls) >= 40  # members, groups, roles, projects, keys, certificates, alerts...
    for name, arg, url in urls:
        for bad in PATH_LIKE:
            path = url.replace(PLACEHOLDER, bad)
            for method in sorted(ACCESS[name].methods):
                response = client.generic(method, path)
                assert response.status_code == 404, (
                    f"{method} {path} ({arg}): {response.status_code}"
                )


@pytest.mark.parametrize(
    "good",
    [
        "user-abc",
        "proj_abc",
        "invite-abc",
        "key_abc",
        "svc_acct_abc",
        "cert_abc",
        "alert_abc",
        "rl-ada",
        "rl_ada",
        "rl-gpt-4.1-mini",  # rate limit ids carry the model's name, dots included
        "rl-ft:gpt-4o-mini-2024-07-18:acme::AbC123",  # a fine-tuned model's
        "group_01JBZ0GEBS8AFFK9WNFPQJ3A5P",  # ULIDs, as the SCIM-synced groups and roles have
        "role_01JBZ0GEBS8AFFK9WNFPQJ3A5P",
        "user-" + "A" * 24,
    ],
)
def test_it_routes_every_id_shape_the_api_hands_out(good):
    url = reverse("orgadmin:project_user_role", kwargs={"project_id": good, "user_id": good})
    match = resolve(url)
    assert match.kwargs == {"project_id": good, "user_id": good}
    limit = reverse("orgadmin:rate_limit_edit", kwargs={"project_id": "proj_a", "limit_id": good})
    assert resolve(limit).kwargs["limit_id"] == good


def test_it_answers_404_to_an_audit_event_id_no_event_can_have(client_as, auditor, org):
    # On PostgreSQL a NUL in the lookup was a 500 ("text fields cannot contain NUL").
    client = client_as(auditor)
    # A dot segment is a path a browser would have normalised, never an id: 404 to htmx too,
    # not the "this event is gone" drawer (a fuzzed `.` found it, in CI on PostgreSQL).
    dots = (".", "..", "%2E", "%2E%2E", "a%2F..%2Fb", "a/./b")
    for bad in ("a%00b", "%00", "%01", "x" * 201, *dots):
        for htmx in ({}, {"HX-Request": "true"}):
            response = client.get(f"/audit-log/events/{bad}/", headers=htmx)
            assert response.status_code == 404, f"{bad} {htmx}: {response.status_code}"
    # Any other id is looked up: not there, the page is a 404 (the drawer says so, in a 200).
    assert client.get("/audit-log/events/audit_log-nope/").status_code == 404
    drawer = client.get("/audit-log/events/audit_log-nope/", headers={"HX-Request": "true"})
    assert drawer.status_code == 200
    assert "audit_log-nope" in drawer.content.decode()


def test_it_still_links_to_an_odd_id_the_api_sent_rather_than_failing_the_page():
    # A listing page reverses every id it shows: an id outside the usual shapes gets a link
    # (that answers 404) instead of a NoReverseMatch that would take the whole page down.
    assert reverse("orgadmin:member", args=["user+odd@acme"]) == "/members/user+odd@acme/"
    event = reverse("orgadmin:audit_event", args=["audit_log-a/b c"])
    assert event == "/audit-log/events/audit_log-a/b%20c/"
