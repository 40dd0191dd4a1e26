"""Fuzzing every form, every query parameter and every id in a URL with hypothesis, against the
simulator.

The URLs come from ACCESS (the access matrix), and the fields of each from the forms its view
actually builds (recorded on a first request), so a new view or field is fuzzed without anyone
listing it here. Values: odd unicode (emoji, right-to-left text, control characters next to NUL),
path-like values (`..`, `%2E%2E`, `a/../b`), huge strings, negative and enormous numbers, malformed
dates and PEMs, injection strings, repeated and missing fields, and plausible values to reach
deeper. The same values go into the ids in each URL's path (`/members/%2E%2E/`).

For every example: never a 500. When a form refuses the input: nothing is written locally (row
counts of every model of ours are unchanged), the simulator received no change request, and the
page shows each refused field's label with its message. An id that is a dot segment answers 404,
having written nothing and asked the API nothing.

`HYPOTHESIS_PROFILE=ci` (the service tier) runs more examples than the default `dev` profile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock
from urllib.parse import quote, unquote

import httpx
import pytest
from django import forms
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.forms import BaseForm
from django.forms.utils import pretty_name
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orgadmin.client import install_transport
from orgadmin.forms import DollarField, EmailListField, WholeNumberField
from tests import fuzzstats
from tests.conftest import SIM_BASE_URL
from tests.orgadmin.pem import make_pem
from tests.orgadmin.test_bad_input import _samples
from tests.test_access_matrix import ACCESS, url_patterns

# Never fuzzed: signing out ends the session the other examples need; signing in is fuzzed by
# its own test below, as an anonymous visitor.
SKIP = {"logout", "login", "account_login"}

INJECTIONS = [
    "' OR 1=1 --",
    '"; DROP TABLE orgadmin_organization; --',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "{% debug %}",
    "${jndi:ldap://example.com/a}",
    "../../../../etc/passwd",
    "%00",
    "\x00",
    "a\r\nSet-Cookie: pwned=1",
    "javascript:alert(1)",
    "http://169.254.169.254/latest/meta-data/",
    "__proto__",
    "*",
    "%",
    "_",
    "\\",
]
ODD_UNICODE = [
    "\u202etxt.exe",  # right-to-left override
    "\ufeff",
    "\u200b",
    "Ａｃｍｅ",
    "ß" * 3,
    "🤖💸",
    "e\u0301" * 20,
    "\U0010ffff",
    "ﷺ" * 10,
    " ",
    "",
    "مرحبا بالعالم",  # right-to-left script
    "שלום\u200f",  # with a right-to-left mark
    "abc \u05d0\u05d1 123",  # mixed directions
    "👩\u200d👩\u200d👧\u200d👦",  # one emoji of seven code points
    "🏳️\u200d🌈🇺🇦",
    "\x01",
    "\x1f",
    "\x7f",
    "a\x00b",
    "\x00\x01\x02",
    "\x1b[31mred",
    "\x85\u2028\u2029",  # line separators
]
# Ids and values that read as a path. As typed, so `%2E%2E` arrives decoded as `..`.
PATH_LIKE = [
    ".",
    "..",
    "%2E%2E",
    "%2e%2e",
    "%2E",
    ".%2E",
    "a/../b",
    "../",
    "a%2Fb",
    "%252E%252E",
    "..%2F..%2Fetc%2Fpasswd",
    "....//",
    "..\\..\\",
    "~",
    "//evil.example",
    "%00",
    "a%00b",
]
# Within a path segment the server decodes, these are dot segments (the SDK refuses them).
DOT_SEGMENTS = {".", ".."}
NUMBERS = [
    "-1",
    "0",
    "-0",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "9" * 40,
    "-" + "9" * 40,
    "0x10",
    "1_000",
    "٣",
    "½",
    "1.5",
    "2147483648",
    "9223372036854775808",
]
BAD_DATES = [
    "2025-02-30",
    "2025-13-01",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "-2025-01-01",
    "2025/01/01",
    "01-02-2025",
    "2025-01-01T25:00",
    "1e10",
    "today",
]
BAD_PEMS = [
    "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n",
    "-----BEGIN PRIVATE KEY-----\nTUlJQg==\n-----END PRIVATE KEY-----\n",
    "-----BEGIN CERTIFICATE-----\n",
    "-----END CERTIFICATE-----",
]
_VALID_PEM = make_pem("fuzz.example.com")
_EXPIRED_PEM = make_pem("old.example.com", expired=True)

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60
)  # no lone surrogates: a browser can't send them either
nasty = st.one_of(
    text,
    st.sampled_from(INJECTIONS + ODD_UNICODE + PATH_LIKE + NUMBERS + BAD_DATES + BAD_PEMS),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=256, max_value=120_000).map(lambda n: "A" * n),  # huge
    st.integers(min_value=1, max_value=4000).map(lambda n: "é" * n),
    # Long values of wide characters, right-to-left text, climbing paths, control characters.
    st.tuples(
        st.sampled_from(["🤖", "👩\u200d👩\u200d👧", "مرحبا ", "../", "%2E%2E/", "\x01\x00"]),
        st.integers(min_value=100, max_value=5000),
    ).map(lambda pair: pair[0] * pair[1]),
)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat)
emails = st.emails().map(str)


def _choices(field: forms.Field) -> list[str]:
    values = []
    for value, label in getattr(field, "choices", []):
        if isinstance(label, list | tuple):  # option groups
            values.extend(str(v) for v, _ in label)
        else:
            values.append(str(value))
    return values


def plausible(field: forms.Field, name: str) -> st.SearchStrategy:
    """Values of the right shape, so that some examples get past the form to the API."""
    if isinstance(field, forms.ChoiceField | forms.MultipleChoiceField) and _choices(field):
        return st.sampled_from(_choices(field))
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "true", "false", ""])
    if isinstance(field, forms.DateField):
        return dates
    if isinstance(field, forms.IntegerField | WholeNumberField):
        return st.integers(min_value=-5, max_value=10**7).map(str)
    if isinstance(field, DollarField):
        return st.decimals(min_value=0, max_value=10**6, places=2).map(str)
    if isinstance(field, forms.EmailField | EmailListField):
        return emails
    if "pem" in name:
        return st.sampled_from([_VALID_PEM, _EXPIRED_PEM, *BAD_PEMS])
    return st.text(alphabet="abcdefghij-_ .", min_size=1, max_size=20)


def field_values(fields: dict[str, forms.Field]) -> st.SearchStrategy:
    """A query or form body: each known field missing, once or repeated; plus unknown fields."""

    def one(name, field):
        value = st.one_of(plausible(field, name), nasty)
        return st.one_of(st.none(), value, st.lists(value, min_size=2, max_size=3))

    known = st.fixed_dictionaries({name: one(name, field) for name, field in fields.items()})
    # Also the parameters some views read without a form (search boxes, the audit drawer, next).
    keys = ["page", "q", "x", "next", "event", "user", "🦄", "a" * 300]
    extra = st.dictionaries(st.sampled_from(keys), nasty, max_size=2)
    return st.tuples(known, extra).map(
        lambda pair: {k: v for k, v in {**pair[1], **pair[0]}.items() if v is not None}
    )


@contextmanager
def recording_forms() -> Iterator[list[tuple[BaseForm, bool]]]:
    """Every form validated while the block runs, with its verdict."""
    seen: list[tuple[BaseForm, bool]] = []
    original = BaseForm.is_valid

    def is_valid(self):
        verdict = original(self)
        seen.append((self, verdict))
        return verdict

    with mock.patch.object(BaseForm, "is_valid", is_valid):
        yield seen


class Recorder:
    """Wraps the simulator's WSGI app and counts the change requests it receives."""

    def __init__(self, app) -> None:
        self.app = app
        self.changes = 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            self.changes += 1
        return self.app(environ, start_response)


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in ("orgadmin", "dashboard")
        for model in apps.get_app_config(label).get_models()
    }


def _body(response) -> str:
    content = b"".join(response) if response.streaming else response.content
    return content.decode(errors="replace")


def _shown(text: str, body: str) -> bool:
    return escape(text) in body or text in body


def _assert_fields_named(seen, body: str, where: str) -> None:
    """Each refused form says what is wrong on the page: a field's label (or name) and its
    message. Small inline forms say only their first problem, so one named field is enough."""
    for form, verdict in seen:
        if verdict or not form.is_bound:  # `Form(request.POST or None)` of an empty POST
            continue
        named = []
        for name, errors in form.errors.items():
            if name not in form.fields:  # a problem with the form as a whole
                named.append(any(_shown(m, body) for m in errors))
                continue
            label = str(form.fields[name].label or pretty_name(name))
            names = (escape(label), label, f'name="{name}"', f"{name}:")
            named.append(any(n in body for n in names) and any(_shown(m, body) for m in errors))
        assert any(named), f"{where}: refused {dict(form.errors)}, but the page doesn't say so"


@pytest.fixture
def rig(org, simulator, client_as, admin, finance, auditor):
    """The synced demo organization, a recorder in front of the simulator, and signed-in
    clients per role."""
    from orgadmin.sync.directory import directory_sync

    directory_sync(org=org)
    recorder = Recorder(simulator)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=recorder)):
        yield {
            "recorder": recorder,
            "samples": {
                **_samples(simulator.store),
                "pk": org.pk,
                "fmt": "csv",
                **_people_samples(finance),
            },
            "admin": client_as(admin),
        }


def _people_samples(person) -> dict[str, int]:
    """A person, their grant and an open invitation, so People's forms are reached."""
    from orgadmin.models import Invitation, RoleGrant

    invitation = Invitation.objects.create(
        email="fuzz.invitee@example.com",
        role="Auditor",
        token_hash="f" * 64,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
    )
    grant = RoleGrant.objects.filter(user=person).first()
    return {"person_id": person.pk, "grant_id": grant.pk, "invitation_id": invitation.pk}


def _url(name: str, samples: dict) -> str | None:
    converters = url_patterns()[name].pattern.converters
    if name == "orgadmin:audit_event":
        samples = {"event_id": "audit_log-fuzz", **samples}
    if any(k not in samples for k in converters):
        return None
    return reverse(name, kwargs={k: samples[k] for k in converters})


def _discover(client, method: str, url: str) -> dict[str, forms.Field]:
    """The fields of the forms the view builds, from one empty request."""
    with recording_forms() as seen:
        client.generic(method, url) if method == "GET" else client.post(url, {})
    fields: dict[str, forms.Field] = {}
    for form, _ in seen:
        fields.update(form.fields)
    return fields


def _fuzz(rig, method: str, name: str, examples: int) -> None:
    client, recorder = rig["admin"], rig["recorder"]
    url = _url(name, rig["samples"])
    assert url is not None, f"no sample arguments for {name}"
    fields = _discover(client, method, url)
    file_fields = {n for n, f in fields.items() if isinstance(f, forms.FileField)}

    @settings(max_examples=examples)
    @given(data=field_values(fields), htmx=st.booleans(), upload=st.binary(max_size=3000))
    def example(data, htmx, upload):
        fuzzstats.count(name)
        headers = {"HX-Request": "true"} if htmx else {}
        before, changes = _row_counts(), recorder.changes
        with recording_forms() as seen:
            if method == "GET":
                response = client.get(url, data, headers=headers)
            else:
                body = dict(data)
                for f in file_fields:
                    body[f] = SimpleUploadedFile("cert.pem", upload)
                response = client.post(url, body, headers=headers)
        where = f"{method} {url} {str(data)[:300]}"
        assert response.status_code < 500, f"{where}: {response.status_code}"
        if method == "GET":
            assert _row_counts() == before, f"{where}: a GET wrote something"
        refused = [form for form, verdict in seen if form.is_bound and not verdict]
        if refused:
            assert _row_counts() == before, f"{where}: refused, yet something was written"
            assert recorder.changes == changes, f"{where}: refused, yet the API was asked"
            if method == "POST" or not htmx:
                # (A list's htmx fragment leaves out the filter bar that sent it: the full page
                # names the field.)
                body = _body(response)
                if response.status_code == 302:  # the message is on the page it leads to
                    body = _body(client.get(response["Location"]))
                if response.status_code == 429:  # wrong passwords, too often: the page says so
                    assert "<h1>Too many" in body, f"{where}: a 429 that doesn't say why"
                    return
                _assert_fields_named(seen, body, where)

    example()


GET_URLS = sorted(n for n, r in ACCESS.items() if "GET" in r.methods and n not in SKIP)
POST_URLS = sorted(n for n, r in ACCESS.items() if "POST" in r.methods and n not in SKIP)


def test_it_survives_fuzzed_query_strings_on_every_page(rig):
    for name in GET_URLS:
        _fuzz(rig, "GET", name, fuzzstats.examples("page"))


def test_it_survives_fuzzed_bodies_on_every_form(rig):
    for name in POST_URLS:
        _fuzz(rig, "POST", name, fuzzstats.examples("form"))


# An argument of a URL's path: as typed into the address bar (PATH_LIKE, `%2E%2E` included), or
# any other value percent-encoded as a browser sends it. With what the server decodes it to.
path_segments = st.one_of(
    st.sampled_from(PATH_LIKE).map(lambda typed: (typed, unquote(typed))),
    nasty.map(lambda value: (quote(value, safe=""), value)),
)
# Stand-ins that each converter reverses (str, slug, api_id, path; int), swapped for the fuzz.
PLACEHOLDERS = ("FUZZ-ARG", "4242424242")


def _url_with_placeholder(name: str, arg: str, samples: dict) -> tuple[str, str] | None:
    for placeholder in PLACEHOLDERS:
        try:
            url = _url(name, {**samples, arg: placeholder})
        except NoReverseMatch:  # e.g. an export format: only csv or json ever reverse
            continue
        if url is not None:
            return url, placeholder
    return None


def _fuzz_path(rig, method: str, name: str, arg: str, examples: int) -> None:
    client, recorder = rig["admin"], rig["recorder"]
    found = _url_with_placeholder(name, arg, rig["samples"])
    if found is None:
        return
    url, placeholder = found

    @settings(max_examples=examples)
    @given(segment=path_segments, htmx=st.booleans())
    @example(segment=("%2E%2E", ".."), htmx=False)  # the one the security review found, always
    @example(segment=(".", "."), htmx=True)  # the one CI found: the drawer answered 200
    def one(segment, htmx):
        fuzzstats.count(name)
        typed, decoded = segment
        path = url.replace(placeholder, typed)
        headers = {"HX-Request": "true"} if htmx else {}
        dots = decoded in DOT_SEGMENTS
        before, changes = _row_counts() if dots else None, recorder.changes
        if method == "GET":
            response = client.get(path, headers=headers)
        else:
            response = client.post(path, {}, headers=headers)
        where = f"{method} {path[:300]} ({arg})"
        assert response.status_code < 500, f"{where}: {response.status_code}"
        if dots:
            assert response.status_code == 404, f"{where}: {response.status_code}"
            assert recorder.changes == changes, f"{where}: a path-like id reached the API"
            assert _row_counts() == before, f"{where}: a path-like id wrote something"

    one()


def test_it_survives_fuzzed_ids_in_every_url_path(rig):
    for name, rule in sorted(ACCESS.items()):
        if name in SKIP:
            continue
        for arg in url_patterns()[name].pattern.converters:
            for method in sorted(rule.methods):
                _fuzz_path(rig, method, name, arg, fuzzstats.examples("path"))


@pytest.mark.django_db
@given(
    username=st.one_of(nasty, st.just("alice")),
    password=nasty,
    extra=st.dictionaries(st.sampled_from(["next", "username", "login", "x"]), nasty, max_size=2),
)
@settings(max_examples=25)
def test_it_survives_fuzzed_sign_ins(username, password, extra):
    """Signing in as an anonymous visitor: the form or the lock-out answers, never a 500."""
    from django.contrib.sessions.models import Session
    from django.test import Client

    fuzzstats.count("login")
    response = Client().post(reverse("login"), {**extra, "login": username, "password": password})
    assert response.status_code in (200, 429), response.status_code
    assert not Session.objects.exists(), "a fuzzed sign-in got in"


# Connection URLs that take the connection's id, with their methods (from ACCESS).
CONNECTION_URLS = sorted(
    (name, method)
    for name, rule in ACCESS.items()
    if "pk" in url_patterns()[name].pattern.converters
    for method in rule.methods
)


def test_it_never_leads_someone_with_a_role_on_one_connection_into_another(org, client):
    """As an Admin of connection A only: fuzzed values for the switcher and fuzzed connection
    ids in the URLs (B's among them) never reach B and never answer 500 (issue 17)."""
    from orgadmin.access import Role
    from orgadmin.middleware import SESSION_KEY
    from tests.factories import OrganizationFactory, UserFactory

    hidden = OrganizationFactory(name="Hidden connection B")
    client.force_login(UserFactory(username="admin-of-a", roles_on={org: Role.ADMIN}))
    pks = st.one_of(st.just(hidden.pk), st.integers(min_value=0, max_value=2**63 - 1))

    @settings(max_examples=fuzzstats.examples("form"))
    @given(
        value=st.one_of(nasty, pks.map(str)),
        pk=pks,
        target=st.sampled_from(CONNECTION_URLS),
        htmx=st.booleans(),
    )
    def one(value, pk, target, htmx):
        fuzzstats.count("roles per connection")
        headers = {"HX-Request": "true"} if htmx else {}
        switched = client.post(reverse("orgadmin:switch_org"), {"org": value}, headers=headers)
        assert switched.status_code < 500, f"switch_org {value[:100]!r}"
        assert client.session.get(SESSION_KEY) != hidden.pk, "switched into B"
        name, method = target
        response = client.generic(method, reverse(name, kwargs={"pk": pk}), headers=headers)
        where = f"{method} {name} pk={pk}"
        assert response.status_code < 500, f"{where}: {response.status_code}"
        assert response.wsgi_request.org == org, f"{where}: not on A"
        if pk != org.pk:
            assert response.status_code in (403, 404), f"{where}: {response.status_code}"
        assert hidden.name not in _body(response), f"{where}: B's name in the answer"

    one()
