"""No input gives a 500: every change URL of the directory, with real ids and junk bodies.
And the parsing of amounts, limits and pasted email lists, unit by unit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from orgadmin.forms.fields import DollarField, EmailListField, WholeNumberField, _emails
from orgadmin.models import ActionLog
from tests.orgadmin.conftest import HX, active_project
from tests.test_access_matrix import ACCESS, url_patterns

JUNK = [
    {},
    {"role": "∞", "name": "x" * 5000, "amount": "1" * 40, "email": "<script>", "user": "';--"},
    {"certificate_ids": ["nope"] * 20, "action": "explode", "value": "-0", "field": "nope"},
    {"mode": "allow_list", "model_ids": "\x00", "retention_type": None, "confirm_name": "x"},
]


def _samples(store) -> dict[str, str]:
    project = active_project(store)
    user = next(u for u in store.users.values() if u.role == "reader")
    group = next(iter(store.groups.values()))
    account = next(iter(project.service_accounts.values()), None)
    key = next((k for k in store.api_keys.values() if k.project_id == project.id), None)
    return {
        "user_id": user.id,
        "invite_id": next(iter(store.invites)),
        "group_id": group.id,
        "role_id": next(r.id for r in store.roles.values() if not r.predefined),
        "project_id": project.id,
        "account_id": account.id if account else "svc_acct_none",
        "key_id": key.id if key else "key_none",
        "limit_id": next(iter(project.rate_limits)),
        "alert_id": next(iter(store.spend_alerts), "alert_none"),
        "certificate_id": next(iter(store.certificates)),
        "tab": "spend",
        # Ours, not OpenAI's (People, invitation links, password reset links): none stored.
        "person_id": 4242,
        "grant_id": 4242,
        "invitation_id": 4242,
        "channel_id": 4242,  # an alert channel (dashboard/alerts): none stored
        "budget_id": 4242,  # a budget (dashboard/budgets): none stored
        "centre_id": 4242,  # a cost centre, assignment, rule (dashboard/chargeback): none stored
        "assignment_id": 4242,
        "rule_id": 4242,
        "alert_pk": 4242,  # an alert of the inbox (dashboard/alerts): none stored
        "finding_id": 4242,  # a hygiene finding (orgadmin/hygiene): none stored
        "campaign_id": 4242,  # an access review (orgadmin/reviews): none stored
        "token": "sample-invitation-token-000000",
        "uidb36": "1",
        "key": "sample-reset-key",
    }


def test_it_never_answers_500_to_junk(as_admin, synced, store, settings):
    settings.OPENAI_MAX_RETRIES = 0
    samples = _samples(store)
    names = [n for n, r in ACCESS.items() if n.startswith("orgadmin:") and "POST" in r.methods]
    names.remove("orgadmin:connections")  # a connection form of its own, tested elsewhere
    patterns = url_patterns()
    for name in names:
        kwargs = {k: samples[k] for k in patterns[name].pattern.converters if k in samples}
        if len(kwargs) != len(patterns[name].pattern.converters):
            continue
        url = reverse(name, kwargs=kwargs)
        for body in JUNK:
            data = {k: v for k, v in body.items() if v is not None}
            for headers in ({}, HX):
                response = as_admin.post(url, data, headers=headers)
                assert response.status_code < 500, f"POST {url} {data}: {response.status_code}"
    # Whatever was refused by the API was logged as failed, never as done.
    assert not ActionLog.objects.filter(outcome="ok", request_id="").exists()


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("1500", 150000),
        ("$1,500", 150000),
        ("1,234.56", 123456),
        ("0.29", 29),  # 0.29 * 100 is 28.999999999999996 in floating point
        ("0.1", 10),
        ("  99.95 ", 9995),
        ("US$7", 700),
        ("0", 0),
    ],
)
def test_it_turns_dollars_into_exact_cents(typed, cents):
    assert DollarField().clean(typed) == cents


@pytest.mark.parametrize("typed", ["1.005", "-1", "abc", "1e3", "Infinity", "NaN", "1,2,3.4.5"])
def test_it_refuses_amounts_that_are_not_dollars_and_cents(typed):
    with pytest.raises(ValidationError):
        DollarField().clean(typed)


def test_it_asks_for_at_least_one_cent_where_zero_means_nothing():
    with pytest.raises(ValidationError, match=r"at least \$0\.01"):
        DollarField(min_cents=1).clean("0.00")


@pytest.mark.parametrize(
    ("typed", "value"), [("10000", 10000), ("10,000", 10000), ("10 000", 10000), ("0", 0)]
)
def test_it_reads_whole_numbers_with_separators(typed, value):
    assert WholeNumberField().clean(typed) == value


@pytest.mark.parametrize("typed", ["-1", "1.5", "1e3", "٣", "½", "9" * 30])
def test_it_refuses_limits_that_are_not_whole_numbers_of_zero_or_more(typed):
    with pytest.raises(ValidationError):
        WholeNumberField().clean(typed)


def test_it_reads_a_pasted_list_of_emails():
    pasted = 'Ann Lee <ann@example.com>, "Bob" <bob@example.com>\ncarl@example.com;ANN@example.com'
    assert _emails(pasted) == ["ann@example.com", "bob@example.com", "carl@example.com"]
    assert _emails("a@example.com b@example.com\tc@example.com") == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]


def test_it_names_every_bad_address_in_a_list():
    with pytest.raises(ValidationError) as refused:
        EmailListField().clean("ok@example.com, nope, also@bad")
    assert "“nope”, “also@bad”" in refused.value.messages[0]


def test_it_caps_a_pasted_list():
    with pytest.raises(ValidationError, match="At most 100 addresses"):
        EmailListField().clean(" ".join(f"p{n}@example.com" for n in range(101)))
