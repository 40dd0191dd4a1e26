"""The demo organization, synced as the worker syncs it, holds every kind of finding; each is
found with the evidence a person would check, worked out here from the cache and the costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import CostRollup
from orgadmin.hygiene.models import Finding, HygieneSettings
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.hygiene.rules import Kind, money
from orgadmin.hygiene.selectors import finding_counts, hygiene_digest
from orgadmin.hygiene.services import finding_outcome_set
from orgadmin.models import AuditEvent, Certificate, Invite, OrgUser, ProjectApiKey, ProjectUser


def _found(org, kind: Kind) -> list[Finding]:
    return list(Finding.objects.filter(org=org, kind=kind, resolved_at__isnull=True))


def _spend_of_key(org, key_id: str) -> Decimal:
    since = timezone.now().date() - dt.timedelta(days=29)
    rows = CostRollup.objects.filter(org=org, dimension="api_key_id", value=key_id, day__gte=since)
    return rows.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def test_it_finds_every_kind_in_the_demo(hygienic):
    missing = [k for k in Kind if not _found(hygienic, k)]
    assert missing == []


def test_each_key_finding_has_its_evidence(hygienic):
    now = timezone.now()
    for f in _found(hygienic, Kind.KEY_OWNER_GONE):
        key = ProjectApiKey.objects.get(org=hygienic, openai_id=f.subject)
        assert not ProjectUser.objects.filter(
            project=key.project, user_openai_id=key.owner_id
        ).exists()
        assert f.evidence["owner"] == key.owner_label
        assert f.evidence["project"] == key.project.name
        assert f.evidence["spend_30d"] == money(_spend_of_key(hygienic, key.openai_id), "usd")
    for f in _found(hygienic, Kind.KEY_UNUSED):
        key = ProjectApiKey.objects.get(org=hygienic, openai_id=f.subject)
        assert (now - key.last_used_at).days >= HygieneSettings().key_unused_days
        assert f.evidence["last_used"] == key.last_used_at.date().isoformat()
    for f in _found(hygienic, Kind.KEY_NEVER_USED):
        key = ProjectApiKey.objects.get(org=hygienic, openai_id=f.subject)
        assert key.last_used_at is None
        assert (now - key.created_at).days >= HygieneSettings().key_grace_days
    spending = _found(hygienic, Kind.KEY_SPENDING)
    for f in spending:
        spent = _spend_of_key(hygienic, f.subject)
        assert spent > 0
        assert f"in use — spent {money(spent, 'usd')}" in f.title


def test_the_members_certificates_and_projects_findings_have_their_evidence(hygienic):
    now = timezone.now()
    owners = OrgUser.objects.filter(org=hygienic, role="owner").count()
    (excess,) = _found(hygienic, Kind.OWNERS_EXCESS)
    assert excess.evidence["count"] == owners > HygieneSettings().max_owners
    for f in _found(hygienic, Kind.MEMBER_DORMANT):
        user = OrgUser.objects.get(org=hygienic, openai_id=f.subject)
        last = AuditEvent.objects.filter(
            org=hygienic, type="login.succeeded", actor_email=user.email
        ).aggregate(at=Max("effective_at"))["at"]
        assert f.evidence["last_sign_in"] == (last.date().isoformat() if last else None)
        assert last is None or (now - last).days >= HygieneSettings().member_dormant_days
    for f in _found(hygienic, Kind.INVITE_STALE):
        invite = Invite.objects.get(org=hygienic, openai_id=f.subject)
        assert invite.status == "pending"
        assert f.evidence["sent"] == invite.created_at.date().isoformat()
    (lapsed,) = _found(hygienic, Kind.CERT_EXPIRED_ACTIVE)
    cert = Certificate.objects.get(org=hygienic, openai_id=lapsed.subject)
    assert cert.expires_at < now
    assert cert.active
    for f in _found(hygienic, Kind.CERT_EXPIRING):
        cert = Certificate.objects.get(org=hygienic, openai_id=f.subject)
        assert now < cert.expires_at <= now + dt.timedelta(days=30)
        assert f.evidence["expires"] == cert.expires_at.date().isoformat()
    for f in _found(hygienic, Kind.PROJECT_NO_OWNER):
        assert not ProjectUser.objects.filter(
            project__org=hygienic, project__openai_id=f.subject, role="owner"
        ).exists()


def test_an_accepted_finding_stays_quiet_until_its_expiry(hygienic, admin):
    now = timezone.now()
    finding = _found(hygienic, Kind.CERT_EXPIRED_ACTIVE)[0]
    before = finding_counts(org=hygienic, now=now)
    until = now.date() + dt.timedelta(days=10)
    finding_outcome_set(
        org=hygienic, finding=finding, outcome="accepted", actor=admin,
        reason="Partner rotates it next week", until=until,
    )  # fmt: skip

    def quiet(at: dt.datetime) -> bool:
        hygiene_refresh(org=hygienic, now=at)
        counts = finding_counts(org=hygienic, now=at)
        digest = hygiene_digest(org=hygienic, now=at, since=at - dt.timedelta(days=30))
        return counts["high"] == before["high"] - 1 and finding.pk not in {
            f.pk for f in digest.worst + digest.new
        }

    assert quiet(now)
    assert quiet(now + dt.timedelta(days=9))
    assert not quiet(now + dt.timedelta(days=11))
    finding.refresh_from_db()
    assert finding.outcome == Finding.Outcome.OPEN


def test_a_refresh_is_idempotent_and_resolves_what_cleared(hygienic):
    now = timezone.now()
    rows = set(Finding.objects.values_list("kind", "subject", "first_seen", "resolved_at"))
    again = hygiene_refresh(org=hygienic, now=now)
    assert (again["new"], again["resolved"]) == (0, 0)
    assert set(Finding.objects.values_list("kind", "subject", "first_seen", "resolved_at")) == rows
    stale = _found(hygienic, Kind.INVITE_STALE)[0]
    Invite.objects.filter(org=hygienic, openai_id=stale.subject).delete()
    assert hygiene_refresh(org=hygienic, now=now)["resolved"] == 1
    stale.refresh_from_db()
    assert stale.resolved_at == now


def _more_keys(org, now, first: int, count: int) -> None:
    """Keys nobody ever used, of someone who isn't a member: two findings each."""
    template = ProjectApiKey.objects.filter(org=org).first()
    ProjectApiKey.objects.bulk_create(
        ProjectApiKey(
            org=org, project=template.project, openai_id=f"key_extra{n}", name=f"x{n}",
            created_at=now - dt.timedelta(days=60), owner_type="user", owner_id="user-gone",
        )
        for n in range(first, first + count)
    )  # fmt: skip


def test_a_refresh_takes_the_same_queries_whatever_the_number_of_findings(hygienic):
    now = timezone.now()
    counts = []
    # (SQLite splits a bulk write at 999 parameters: both stay under one batch here.)
    for first, count in ((0, 2), (2, 25)):
        _more_keys(hygienic, now, first, count)
        with CaptureQueriesContext(connection) as queries:
            result = hygiene_refresh(org=hygienic, now=now)
        assert result["new"] == 2 * count
        counts.append(len(queries))
    print(f"\nhygiene_refresh: {counts[0]} queries for 4 new findings, {counts[1]} for 50")
    assert counts[0] == counts[1]
