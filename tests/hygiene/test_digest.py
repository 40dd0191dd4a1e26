"""The Auditor's weekly digest carries the hygiene section: open findings by severity, the new
ones of the week, the worst few, a link to the page; an accepted one stays out until its day."""

from __future__ import annotations

import datetime as dt

from dashboard.digests.content import digest_build
from dashboard.digests.models import Kind as DigestKind
from dashboard.digests.schedule import WEEKLY, latest_due
from orgadmin.access import Role
from orgadmin.hygiene.models import Finding
from orgadmin.hygiene.rules import Group, Kind
from tests.factories import OrganizationFactory, UserFactory

NOW = dt.datetime(2025, 3, 31, 6, 5, tzinfo=dt.UTC)


def _finding(org, kind: Kind, subject: str, severity: str, title: str, seen: dt.datetime, **kw):
    return Finding.objects.create(
        org=org, kind=kind, subject=subject, group=Group.KEYS, severity=severity,
        rank=["high", "medium", "low", "info"].index(severity), title=title, evidence={},
        fix="Revoke it.", first_seen=seen, last_seen=NOW, **kw,
    )  # fmt: skip


def test_the_auditor_digest_has_the_hygiene_section(db, settings):
    settings.SITE_URL = "https://dash.example.com"
    org = OrganizationFactory(name="Acme")
    aude = UserFactory(username="aude", roles_on={org: Role.AUDITOR})
    old = NOW - dt.timedelta(days=40)
    _finding(org, Kind.KEY_OWNER_GONE, "key_a", "high", "The owner of “etl” left", old)
    _finding(org, Kind.KEY_UNUSED, "key_b", "medium", "“cron” unused for 120 days", NOW)
    _finding(
        org, Kind.ADMIN_KEY_UNUSED, "key_c", "high", "Admin key “Old” unused", NOW,
        outcome="accepted", reason="Rotating", accepted_until=(NOW + dt.timedelta(days=5)).date(),
    )  # fmt: skip
    _finding(org, Kind.KEY_NEVER_USED, "key_d", "low", "“gone” never used", old, resolved_at=NOW)
    week = latest_due(WEEKLY, now=NOW, tz=dt.UTC)

    body = digest_build(
        user=aude, org=org, kind=DigestKind.AUDITOR_WEEKLY, period=week, now=NOW
    ).body

    assert "High 1, medium 1, low 0, info 0." in body
    assert "New in the last 7 days (1):\n- [medium] “cron” unused for 120 days" in body
    assert "- [high] The owner of “etl” left. Fix: Revoke it." in body
    assert "Admin key “Old”" not in body  # accepted until a day that hasn't come
    assert "never used" not in body  # resolved
    assert "Hygiene: https://dash.example.com/hygiene/" in body
