"""What an access token opens (issue 21, item 6): the exports, read with GET as its person with
their roles of the moment, and nothing else. Every other URL and method is 403, whatever the
person could do signed in; an expired, revoked or made-up token is 401 and says why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from dashboard.models import CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.middleware import SESSION_KEY
from orgadmin.models import ActionLog, RoleGrant
from orgadmin.tokens.models import AccessToken
from orgadmin.tokens.selectors import TOKEN_URL_NAMES
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, SIM_NOW
from tests.factories import OrganizationFactory, UserFactory
from tests.test_access_matrix import (
    ACCESS,
    AUDIT_SAMPLES,
    DIRECTORY_SAMPLES,
    METHODS,
    _kwargs_for,
    url_patterns,
)

pytestmark = pytest.mark.django_db

TODAY = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC).date()
PERIOD = {
    "start": (TODAY - dt.timedelta(days=14)).isoformat(),
    "end": TODAY.isoformat(),
    "family": "moderations",  # the usage family synced below (costs ignore it)
}
FORBIDDEN = "An access token only reads the exports (GET)"


def _cost(org, amount: str, days_ago: int = 2) -> None:
    CostBucket.objects.create(
        org=org, day=TODAY - dt.timedelta(days=days_ago), line_item="gpt-5, input",
        project_id="proj_b", api_key_id="", amount=amount, currency="usd", quantity=4250,
        quantity_unit="tokens",
    )  # fmt: skip


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY)
    _cost(org, "1.75")
    return org


@pytest.fixture
def synced(acme, simulator):
    """Acme with the simulator demo's costs and one usage family, synced as a live
    organization's would be (the simulator keeps its costs and usage consistent)."""
    usage_sync(org=acme, families=["moderations"])
    return acme


@pytest.fixture
def bolt(db):
    org = OrganizationFactory(name="Bolt")
    _cost(org, "4.25")
    return org


@pytest.fixture
def fin(acme, bolt):
    return UserFactory(username="fin", roles_on={acme: Role.FINANCE, bolt: Role.FINANCE})


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _signed_in_on(client_as, user, org) -> Client:
    client = client_as(user)
    session = client.session
    session[SESSION_KEY] = org.pk
    session.save()
    return client


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("costs_export", "csv"),
        ("costs_export", "json"),
        ("usage_export", "csv"),
        ("usage_export", "json"),
    ],
)
def test_it_reads_an_export_exactly_as_its_person_signed_in_would(
    name, fmt, synced, fin, token_for, bearer, client_as
):
    acme = synced
    url = reverse(name, kwargs={"fmt": fmt})
    signed_in = _body(_signed_in_on(client_as, fin, acme).get(url, PERIOD))

    response = bearer(token_for(fin)).get(url, {**PERIOD, "org": acme.pk})

    assert response.status_code == 200
    assert _body(response) == signed_in
    rows = signed_in.decode().splitlines() if fmt == "csv" else json.loads(signed_in)
    assert len(rows) > 1  # the synced costs and usage are in it, not just a header
    assert response["Cache-Control"] == "private, no-store"


def test_it_names_the_organization_by_name_too(acme, bolt, fin, token_for, bearer):
    client = bearer(token_for(fin))
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    by_name = client.get(url, {**PERIOD, "org": "bolt", "precision": "full"})

    assert by_name.status_code == 200
    body = _body(by_name)
    assert "4.25" in body.decode()
    assert body == _body(client.get(url, {**PERIOD, "org": bolt.pk, "precision": "full"}))


def test_it_reads_every_organizations_costs_without_naming_one(
    acme, bolt, fin, token_for, bearer, client_as
):
    url = reverse("all_costs_export", kwargs={"fmt": "csv"})
    signed_in = _body(client_as(fin).get(url, PERIOD))

    response = bearer(token_for(fin)).get(url, PERIOD)

    assert response.status_code == 200
    assert _body(response) == signed_in
    assert {"Acme", "Bolt"} <= {line.split(",")[1] for line in signed_in.decode().splitlines()[1:]}


def test_it_reads_the_focus_export(synced, fin, token_for, bearer, client_as):
    acme = synced
    try:
        url = reverse("costs_focus")
    except NoReverseMatch:
        pytest.skip("costs_focus (/costs/focus.csv) is not in this tree yet: helper FOCUS adds it")
    month = {"month": TODAY.strftime("%Y-%m")}
    signed_in = _body(_signed_in_on(client_as, fin, acme).get(url, month))

    response = bearer(token_for(fin)).get(url, {**month, "org": acme.pk})

    assert response.status_code == 200
    assert _body(response) == signed_in
    assert len(signed_in.decode().splitlines()) > 1


@pytest.mark.parametrize(
    "name",
    ["orgadmin:audit_export_csv", "orgadmin:audit_export_jsonl", "orgadmin:activity_export"],
)
def test_an_auditor_reads_the_audit_and_action_log_exports(
    name, acme, token_for, bearer, client_as
):
    auditor = UserFactory(username="aud", roles_on={acme: Role.AUDITOR})
    ActionLog.objects.create(
        org=acme, actor_name="root", action="project.create", summary="Created Search",
        outcome="ok",
    )  # fmt: skip
    signed_in = client_as(auditor).get(reverse(name))

    response = bearer(token_for(auditor)).get(reverse(name))

    assert response.status_code == 200 == signed_in.status_code
    body, expected = _body(response).decode(), _body(signed_in).decode()
    if name == "orgadmin:activity_export":
        # The token's own use is now in the action log too: the signed-in read is a line less.
        assert "Created Search" in body
        assert "with the access token" in body
        assert body.splitlines()[0] == expected.splitlines()[0]
    else:
        assert body == expected


def test_it_opens_every_export_and_nothing_that_is_not_one():
    """Each name a token opens is a URL of the tree, read with GET only and guarded by a
    permission; and every URL that downloads a file (its path ends in .csv, .json, .jsonl,
    .xlsx, .pdf, or an export.<fmt>) is one of them, so a new export isn't forgotten."""
    patterns = url_patterns()
    for name in TOKEN_URL_NAMES:
        assert name in patterns, f"{name}: no such URL"
        assert ACCESS[name].methods == {"GET"}, name
        assert getattr(patterns[name].callback, "required_perm", None) is not None, name
    files = {
        name
        for name, p in patterns.items()
        if re.search(r"(\.(csv|jsonl?|xlsx|pdf)|export\.<[^>]+>)$", str(p.pattern))
    }
    assert files == set(TOKEN_URL_NAMES)


def test_it_refuses_every_other_url_and_method_even_to_a_superuser(token_for, bearer, db):
    """The whole URL list, every method: a token of someone who may do anything signed in
    opens the exports with GET (and HEAD) and nothing else."""
    org = OrganizationFactory(name="Acme")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = bearer(token_for(root))
    samples = {"pk": org.pk, "fmt": "csv", **DIRECTORY_SAMPLES, **AUDIT_SAMPLES}
    before = ActionLog.objects.count()
    refused = 0
    for name, pattern in sorted(url_patterns().items()):
        url = reverse(name, kwargs=_kwargs_for(pattern, samples))
        for method in [*METHODS, "HEAD", "OPTIONS"]:
            if name in TOKEN_URL_NAMES and method in ("GET", "HEAD"):
                continue
            response = client.generic(method, url, "name=x&org=1")
            assert response.status_code == 403, f"{method} {url}: {response.status_code}"
            if method != "HEAD":  # a HEAD answer has no body
                assert FORBIDDEN in response.content.decode(), f"{method} {url}"
            refused += 1
    assert client.get("/no/such/page/").status_code == 403
    assert refused > 1000  # every URL was walked, with every method
    assert ActionLog.objects.count() == before  # nothing was changed, not even a use logged
    assert Session.objects.count() == 0


def test_the_exports_answer_with_a_token_only_to_get(acme, fin, token_for, bearer):
    client = bearer(token_for(fin))
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    assert client.get(url, {"org": acme.pk}).status_code == 200
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.generic(method, f"{url}?org={acme.pk}").status_code == 403


def test_no_session_and_no_cookie_come_of_a_token(acme, fin, token_for, bearer):
    client = bearer(token_for(fin))
    answers = [
        client.get(reverse("costs_export", kwargs={"fmt": "csv"}), {"org": acme.pk}),  # 200
        client.get(reverse("orgadmin:audit_export_csv"), {"org": acme.pk}),  # the view's 403
        client.get(reverse("costs_export", kwargs={"fmt": "csv"}), {"org": "nope"}),  # ours
    ]

    assert [a.status_code for a in answers] == [200, 403, 403]
    assert Session.objects.count() == 0
    assert [a.cookies.get("sessionid") for a in answers] == [None, None, None]
    assert "don't let you read this export" in answers[1].content.decode()  # plain text


def test_a_head_gets_what_it_gets_signed_in(acme, fin, token_for, bearer, client_as):
    url = reverse("costs_export", kwargs={"fmt": "csv"})
    signed_in = _signed_in_on(client_as, fin, acme).head(url)

    response = bearer(token_for(fin)).head(url, {"org": acme.pk})

    assert response.status_code == signed_in.status_code  # the view answers HEAD itself


def test_the_page_reads_a_fixed_number_of_queries(acme, fin, token_for, django_assert_num_queries):
    from orgadmin.tokens import selectors

    for n in range(3):
        token_for(fin, name=f"t{n}")

    with django_assert_num_queries(1):
        assert len(selectors.tokens_of(user=fin)) == 3
    with django_assert_num_queries(1):  # the person's roles, once
        links = selectors.export_links(user=fin, org=acme, orgs=[acme])
    assert [link.path for link in links][:2] == [
        f"/costs/export.csv?org={acme.pk}",
        f"/costs/export.json?org={acme.pk}",
    ]


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda t: t.update(expires_at=timezone.now() - dt.timedelta(minutes=1)), "expired on"),
        (lambda t: t.update(revoked_at=timezone.now()), "was revoked on"),
    ],
)
def test_an_expired_or_revoked_token_gets_401_with_the_reason(
    spoil, says, acme, fin, token_for, bearer
):
    secret = token_for(fin)
    spoil(AccessToken.objects.filter(user=fin))

    for url in (reverse("costs_export", kwargs={"fmt": "csv"}), reverse("orgadmin:people")):
        response = bearer(secret).get(url, {"org": acme.pk})
        assert response.status_code == 401
        assert says in response.content.decode()
        assert f"odt_…{secret[-4:]}" in response.content.decode()  # which token it was
        assert response["WWW-Authenticate"].startswith('Bearer realm="exports"')


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ("hello", "not an access token of this dashboard"),
        ("odt_" + "A" * 43, "unknown here"),
        ("sk-admin-" + "x" * 40, "not an access token of this dashboard"),
        ("", "not an access token of this dashboard"),
    ],
)
def test_a_made_up_token_gets_401(secret, says, acme, bearer):
    response = bearer(secret).get(reverse("costs_export", kwargs={"fmt": "csv"}))

    assert response.status_code == 401
    assert says in response.content.decode()


def test_a_token_of_someone_who_can_no_longer_sign_in_gets_401(acme, fin, token_for, bearer):
    secret = token_for(fin)
    fin.is_active = False
    fin.save()

    response = bearer(secret).get(reverse("costs_export", kwargs={"fmt": "csv"}), {"org": acme.pk})

    assert response.status_code == 401
    assert "can no longer sign in" in response.content.decode()


def test_a_role_lost_is_access_lost(acme, token_for, bearer):
    person = UserFactory(username="fiona", roles_on={acme: Role.FINANCE})
    client = bearer(token_for(person))
    costs = reverse("costs_export", kwargs={"fmt": "csv"})
    audit = reverse("orgadmin:audit_export_csv")
    assert client.get(costs).status_code == 200
    assert client.get(audit).status_code == 403  # Finance doesn't read the audit log

    RoleGrant.objects.filter(user=person).update(role=Role.AUDITOR)  # moved to Auditor
    refused = client.get(costs)
    assert refused.status_code == 403
    assert refused.content.decode() == (
        "Your roles on Acme at this moment don't let you read this export.\n"
    )
    assert client.get(audit).status_code == 200

    RoleGrant.objects.filter(user=person).delete()
    gone = client.get(audit)
    assert gone.status_code == 403
    assert "no role on any organization" in gone.content.decode()


def test_it_reads_no_organization_its_person_has_no_role_on(acme, bolt, token_for, bearer):
    person = UserFactory(username="acme-only", roles_on={acme: Role.FINANCE})
    client = bearer(token_for(person))
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    for asked in (bolt.pk, "Bolt", 999999, "<script>"):
        response = client.get(url, {"org": asked})
        assert response.status_code == 403
        assert "4.25" not in response.content.decode()
    assert client.get(url).status_code == 200  # their only one


def test_it_asks_which_organization_when_the_person_has_several(acme, bolt, fin, token_for, bearer):
    response = bearer(token_for(fin)).get(reverse("costs_export", kwargs={"fmt": "csv"}))

    assert response.status_code == 400
    text = response.content.decode()
    assert "?org=" in text
    assert f"{acme.pk} (Acme)" in text
    assert f"{bolt.pk} (Bolt)" in text


def test_each_use_is_logged_at_most_once_a_minute(acme, fin, token_for, bearer):
    secret = token_for(fin)
    client = bearer(secret)
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    for _ in range(3):
        assert client.get(url, {"org": acme.pk}).status_code == 200
    (use,) = ActionLog.objects.filter(action="token.use")
    token = AccessToken.objects.get(user=fin)
    assert token.last_used_at is not None
    assert (use.org, use.actor, use.resource_id) == (acme, fin, token.masked)
    assert use.summary == f"Read {url} with the access token “Power BI ({token.masked})”"

    AccessToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(seconds=61)
    )
    client.get(url, {"org": acme.pk})
    assert ActionLog.objects.filter(action="token.use").count() == 2


def test_too_many_requests_in_a_minute_get_429(acme, fin, token_for, bearer, settings):
    settings.ACCESS_TOKEN_REQUESTS_PER_MINUTE = 3
    client = bearer(token_for(fin))
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    answers = [client.get(url, {"org": acme.pk}).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert client.get(url, {"org": acme.pk})["Retry-After"] == "60"


def test_the_database_never_holds_the_token(acme, fin, token_for, bearer):
    secret = token_for(fin)
    bearer(secret).get(reverse("costs_export", kwargs={"fmt": "csv"}), {"org": acme.pk})
    bearer(secret).post(reverse("access_token_create"), {"name": "x", "days": "30"})

    random_part = secret.removeprefix("odt_")
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            found += [table for row in cursor.fetchall() if random_part[:12] in repr(row)]
    assert found == []
    token = AccessToken.objects.get(user=fin)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()


def test_a_token_costs_one_query_to_refuse_and_no_write_to_read_again(
    acme, fin, token_for, bearer, django_assert_num_queries
):
    client = bearer(token_for(fin))
    export = reverse("costs_export", kwargs={"fmt": "csv"})
    assert client.get(export, {"org": acme.pk}).status_code == 200  # the minute's use: logged

    with django_assert_num_queries(1):  # the token, by its hash
        assert client.get(reverse("orgadmin:people")).status_code == 403
    with django_assert_num_queries(1):
        assert client.post(export).status_code == 403
    with django_assert_num_queries(5) as read:  # token, roles, connections, timezone, capability
        assert client.get(export, {"org": acme.pk}).status_code == 200
    assert not [q for q in read.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
