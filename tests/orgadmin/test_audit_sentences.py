"""Audit events in words: sentences for every type, before/after diffs, and no crash on anything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgadmin.audit import (
    DESCRIBERS,
    EVENT_TYPES,
    UNKNOWN,
    Change,
    category_of,
    describe,
    has_own_sentence,
    names_in,
    normalize,
)

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ADMIN_API.md"
ALICE = {
    "type": "session",
    "session": {"user": {"id": "user-alice", "email": "alice@acme.com"}, "ip_address": "1.2.3.4"},
}
PROJECT_X = {"id": "proj_x", "name": "Project X"}


def event(event_type: str, payload: dict | None = None, **extra) -> dict:
    raw = {"id": f"audit_log-{event_type}", "type": event_type, "effective_at": 1_750_000_000}
    raw["actor"] = extra.pop("actor", ALICE)
    raw.update(extra)
    if payload is not None:
        raw[event_type] = payload
    return raw


def _spec_event_types() -> list[str]:
    """The spec digest's list of the 145 `AuditLogEventType` values (§5.2)."""
    text = SPEC.read_text() if SPEC.exists() else ""
    listing = text.split("**All 145 `AuditLogEventType` values**")[1].split("**Per-event")[0]
    return re.findall(r"`([a-z_.]+)`", listing)


def _types_with_a_payload_schema() -> set[str]:
    """The event types of the spec digest's payload table (§5.2)."""
    text = SPEC.read_text() if SPEC.exists() else ""
    if not text:
        return set()
    table = text.split("**Per-event payload objects**")[1].split("**No payload schema**")[0]
    first_column = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    found = {t for cell in first_column for t in re.findall(r"`([a-z_.]+)`", cell)}
    # "`ip_allowlist.config.activated`, `…deactivated`" abbreviates the second one.
    return found | {"ip_allowlist.config.deactivated"}


def test_it_has_its_own_sentence_for_every_type_with_a_payload_schema():
    schema_types = _types_with_a_payload_schema()
    if not schema_types:
        pytest.skip("the spec digest is not beside the repository")
    spec = _spec_event_types()
    assert (len(spec), len(schema_types)) == (145, 55)
    assert schema_types <= set(DESCRIBERS)
    # The 90 without a payload schema (every tenant.*, tunnel.*, resource.deleted) are generic.
    assert len([t for t in spec if not has_own_sentence(t)]) == 90
    # The SDK knows every type of the spec, and a few more.
    assert set(spec) <= set(EVENT_TYPES)


def test_it_says_what_changed_in_a_rate_limit_with_the_value_before():
    earlier = event(
        "rate_limit.updated",
        {"id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 500}},
        project=PROJECT_X,
    )
    raw = event(
        "rate_limit.updated",
        {"id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 1000}},
        project=PROJECT_X,
    )

    described = describe(raw, history=[earlier])

    assert described.sentence.text() == (
        "alice@acme.com changed the rate limit for gpt-4o in Project X: "
        "max_requests_per_1_minute 500 → 1000"
    )
    assert described.changes == [Change("max_requests_per_1_minute", 500, 1000)]


def test_it_says_the_before_is_unknown_when_the_history_does_not_reach_it():
    raw = event(
        "rate_limit.updated",
        {"id": "rl-o3", "changes_requested": {"max_tokens_per_1_minute": 90000}},
        project=PROJECT_X,
    )
    described = describe(raw, history=[])
    assert described.changes == [Change("max_tokens_per_1_minute", UNKNOWN, 90000)]
    assert described.sentence.text().endswith("max_tokens_per_1_minute set to 90000")


def test_it_diffs_a_deleted_key_against_what_created_it():
    created = event("api_key.created", {"id": "key_1", "data": {"scopes": ["api.model.request"]}})
    deleted = event("api_key.deleted", {"id": "key_1"}, project=PROJECT_X)

    described = describe(deleted, names={"key_1": "CI key"}, history=[created])

    assert described.sentence.text() == "alice@acme.com deleted API key CI key in Project X"
    assert Change("scopes", ["api.model.request"], None) in described.changes
    assert Change("state", "active", "deleted") in described.changes


def test_it_shows_a_creation_as_coming_from_nothing():
    raw = event("user.added", {"id": "user-bob", "data": {"role": "owner"}})
    described = describe(raw, names={"user-bob": "bob@acme.com"}, history=[])
    assert described.sentence.text() == (
        "alice@acme.com added bob@acme.com to the organization as owner"
    )
    assert Change("role", None, "owner") in described.changes
    assert Change("state", None, "active") in described.changes


def test_it_lists_permissions_added_and_removed_from_a_role():
    created = event(
        "role.created",
        {"id": "role_1", "role_name": "Ops", "permissions": ["a.read", "b.read"]},
    )
    updated = event(
        "role.updated",
        {
            "id": "role_1",
            "changes_requested": {
                "permissions_added": ["c.write"],
                "permissions_removed": ["a.read"],
            },
        },
    )
    described = describe(updated, names={"role_1": "Ops"}, history=[created])
    [change] = [c for c in described.changes if c.field == "permissions"]
    assert (change.added, change.removed) == (["c.write"], ["a.read"])
    assert described.sentence.text() == (
        "alice@acme.com changed role Ops: permissions added c.write; removed a.read"
    )


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (event("login.succeeded", {}), "alice@acme.com signed in from 1.2.3.4"),
        (
            event("login.failed", {"error_code": "mfa", "error_message": "MFA required"}),
            "alice@acme.com failed to sign in from 1.2.3.4: MFA required (mfa)",
        ),
        (
            event("invite.sent", {"id": "invite-1", "data": {"email": "c@x.io", "role": "reader"}}),
            "alice@acme.com invited c@x.io as reader",
        ),
        (
            event("project.created", {"id": "proj_9", "data": {"name": "p", "title": "Search"}}),
            "alice@acme.com created project Search",
        ),
        (
            event(
                "certificates.activated",
                {"certificates": [{"id": "c1", "name": "A"}, {"id": "c2", "name": "B"}]},
            ),
            "alice@acme.com activated certificates A and B for the organization",
        ),
        (
            event("tenant.sso_connection.updated"),
            "alice@acme.com updated the tenant SSO connection",
        ),
        (
            event("tenant.ads_account.onboarding.redemption"),
            "alice@acme.com: tenant ads account onboarding redemption",
        ),
        (
            event("quantum_link.entangled", {"id": "ql_1"}, actor=None),
            "Someone: quantum link entangled ql_1",
        ),
        (
            event(
                "service_account.created",
                {"id": "svc_acct_1", "data": {"role": "member"}},
                project=PROJECT_X,
                actor={
                    "type": "api_key",
                    "api_key": {
                        "id": "key_9",
                        "type": "service_account",
                        "service_account": {"id": "svc_acct_0"},
                    },
                },
            ),
            "service account svc_acct_0 created service account svc_acct_1 in Project X as member",
        ),
    ],
)
def test_it_reads_like_a_sentence(raw, sentence):
    assert describe(raw).sentence.text() == sentence


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (
            event("api_key.created", project=PROJECT_X),
            "alice@acme.com created an API key in Project X",
        ),
        (event("user.added", project=PROJECT_X), "alice@acme.com added a user to Project X"),
        (event("rate_limit.updated"), "alice@acme.com updated a rate limit"),
        (event("certificates.activated"), "alice@acme.com activated certificates"),
        (event("role.bound_to_resource"), "alice@acme.com bound a role to a resource"),
        (
            event("project.updated", None, **{"project.updated": None}),
            "alice@acme.com updated a project",
        ),
        # Types whose sentence needs nothing from the payload keep it.
        (event("login.succeeded"), "alice@acme.com signed in from 1.2.3.4"),
        (event("organization.updated"), "alice@acme.com changed the organization settings"),
    ],
)
def test_it_says_what_it_can_of_an_event_the_api_sent_without_its_payload(raw, sentence):
    described = describe(raw, history=[])
    assert described.sentence.text() == sentence
    assert described.changes == []
    assert described.payload_missing == (
        raw["type"] not in ("login.succeeded", "organization.updated")
    )


def test_it_names_the_things_an_event_touches_for_links():
    raw = event("user.deleted", {"id": "user-bob"}, project=PROJECT_X)
    refs = {(r.kind, r.id) for r in describe(raw).refs}
    assert {("user", "user-alice"), ("project", "proj_x"), ("user", "user-bob")} <= refs


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, database=None)
@given(
    event_type=st.sampled_from([*EVENT_TYPES, "made.up", "x", "a.b.c.d.e"]),
    payload=_json,
    actor=_json,
    project=_json,
    history=st.lists(_json, max_size=3),
)
def test_it_never_crashes_on_any_payload(event_type, payload, actor, project, history):
    raw = {"id": "audit_log-x", "type": event_type, "effective_at": 1, event_type: payload}
    raw |= {"actor": actor, "project": project}
    history = [h if isinstance(h, dict) else {"type": event_type, event_type: h} for h in history]
    described = describe(raw, history=history)
    assert described.sentence.text()
    normalize(raw)
    names_in(raw)
    assert category_of(event_type)
