"""The rules alone, on plain facts: what they refuse to claim matters as much as what they flag."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orgadmin.hygiene.rules import Facts, KeyFact, Kind, MemberFact, Thresholds, findings

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
T = Thresholds()


def _key(**kw) -> KeyFact:
    base = dict(
        key_id="key_a", name="etl", redacted="sk-proj...abc", project_id="proj_a",
        project_name="Data", owner_type="user", owner_id="user-a", owner_label="Ana",
        owner_is_member=True, created_at=NOW - dt.timedelta(days=200), last_used_at=None,
    )  # fmt: skip
    return KeyFact(**(base | kw))


def _kinds(facts: Facts) -> set[str]:
    return {f.kind for f in findings(facts, T)}


def test_it_does_not_call_a_key_made_today_never_used() -> None:
    fresh = _key(created_at=NOW - dt.timedelta(hours=3))
    old = _key(key_id="key_b", created_at=NOW - dt.timedelta(days=T.key_grace_days + 1))
    found = findings(Facts(now=NOW, keys=[fresh, old]), T)
    assert [(f.kind, f.subject) for f in found] == [(Kind.KEY_NEVER_USED, "key_b")]
    assert found[0].evidence["created"] == old.created_at.date().isoformat()


def test_it_marks_a_flagged_key_that_spends_as_in_use_with_its_spend() -> None:
    gone = _key(owner_is_member=False, last_used_at=NOW, spend=Decimal("12.345"))
    found = {f.kind: f for f in findings(Facts(now=NOW, keys=[gone]), T)}
    assert set(found) == {Kind.KEY_OWNER_GONE, Kind.KEY_SPENDING}
    assert found[Kind.KEY_OWNER_GONE].evidence["in_use"] is True
    assert found[Kind.KEY_OWNER_GONE].evidence["spend_30d"] == "$12.35"
    assert "in use — spent $12.35" in found[Kind.KEY_SPENDING].title


def test_it_never_flags_sign_ins_without_an_audit_log() -> None:
    member = MemberFact(
        "user-a", "a@x.example", "Ana", "reader", NOW - dt.timedelta(days=400), None
    )
    assert Kind.MEMBER_DORMANT not in _kinds(Facts(now=NOW, members=[member]))


def test_it_says_how_far_back_the_audit_log_goes_when_it_is_short() -> None:
    since = NOW - dt.timedelta(days=20)
    member = MemberFact(
        "user-a", "a@x.example", "Ana", "reader", NOW - dt.timedelta(days=400), None
    )
    (found,) = findings(Facts(now=NOW, members=[member], audit_since=since), T)
    assert found.title.startswith(f"a@x.example: no sign-in seen since {since.date().isoformat()}")
    assert "older sign-ins aren't known" in found.title
    assert found.evidence["audit_log_since"] == since.date().isoformat()


def test_it_leaves_members_who_signed_in_recently_alone() -> None:
    since = NOW - dt.timedelta(days=365)
    recent = MemberFact("user-a", "a@x", "Ana", "reader", since, NOW - dt.timedelta(days=5))
    stale = MemberFact("user-b", "b@x", "Bo", "reader", since, NOW - dt.timedelta(days=100))
    found = findings(Facts(now=NOW, members=[recent, stale], audit_since=since), T)
    assert [f.subject for f in found] == ["user-b"]
    assert found[0].evidence["last_sign_in"] == (NOW - dt.timedelta(days=100)).date().isoformat()


def test_it_does_not_claim_spend_it_does_not_know() -> None:
    key = _key(owner_is_member=False, last_used_at=NOW)
    (found,) = findings(Facts(now=NOW, keys=[key], spend_known=False), T)
    assert found.evidence["spend_30d"] is None
