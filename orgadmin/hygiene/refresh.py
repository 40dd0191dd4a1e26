"""Recomputing an organization's findings after a sync: what the tasks call. It imports no
service that talks to the API, so the tasks that call it import nothing that imports them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgadmin.hygiene.facts import hygiene_facts
from orgadmin.hygiene.models import Finding, HygieneSettings
from orgadmin.hygiene.rules import Found, Severity, findings
from orgadmin.models import Organization

_RANK = {s.value: n for n, s in enumerate(Severity)}
_UPDATED = ["group", "severity", "rank", "title", "evidence", "fix", "last_seen"]
_REOPENED = ["first_seen", "resolved_at", "outcome", "reason", "accepted_until", "outcome_by"]
_REOPENED += ["outcome_at"]


def hygiene_settings(*, org: Organization) -> HygieneSettings:
    """The organization's thresholds (the defaults, unsaved, until an Admin changes them)."""
    return HygieneSettings.objects.filter(org=org).first() or HygieneSettings(org=org)


def _row(org: Organization, f: Found, now: dt.datetime, **extra: Any) -> Finding:
    return Finding(
        org=org, kind=f.kind.value, subject=f.subject, group=f.group.value,
        severity=f.severity.value, rank=_RANK[f.severity.value], title=f.title[:500],
        evidence=f.evidence, fix=f.fix[:500], last_seen=now, **extra,
    )  # fmt: skip


def hygiene_refresh(*, org: Organization, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute the organization's findings and store them: new ones added, current ones
    updated, those whose condition cleared resolved, acceptances whose day came reopened.
    Idempotent; a fixed number of queries whatever the number of findings."""
    now = now or timezone.now()
    found = findings(hygiene_facts(org=org, now=now), hygiene_settings(org=org).thresholds())
    with transaction.atomic():
        known = {
            (kind, subject): (pk, resolved_at)
            for pk, kind, subject, resolved_at in Finding.objects.filter(org=org).values_list(
                "pk", "kind", "subject", "resolved_at"
            )
        }
        fresh, current, back = [], [], []
        for f in found:
            pk, resolved_at = known.get((f.kind.value, f.subject), (None, None))
            if pk is None:
                fresh.append(_row(org, f, now, first_seen=now))
            elif resolved_at is not None:  # it cleared, and is back: a new occurrence, open
                back.append(_row(org, f, now, pk=pk, first_seen=now, resolved_at=None))
            else:
                current.append(_row(org, f, now, pk=pk))
        # Resolved: what was current and isn't found now (before the new rows exist).
        kept = [row.pk for row in current] + [row.pk for row in back]
        resolved = (
            Finding.objects.filter(org=org, resolved_at__isnull=True)
            .exclude(pk__in=kept)
            .update(resolved_at=now)
        )
        Finding.objects.bulk_create(
            fresh, update_conflicts=True, unique_fields=["org", "kind", "subject"],
            update_fields=_UPDATED,
        )  # fmt: skip
        Finding.objects.bulk_update(current, _UPDATED)
        for row in back:
            row.outcome, row.reason, row.accepted_until = Finding.Outcome.OPEN, "", None
            row.outcome_by, row.outcome_at = None, None
        Finding.objects.bulk_update(
            back,
            [*_UPDATED, *_REOPENED],
        )
        expired = Finding.objects.filter(
            org=org, outcome=Finding.Outcome.ACCEPTED, accepted_until__lte=now.date()
        ).update(outcome=Finding.Outcome.OPEN, outcome_at=now, outcome_by=None)
    return {
        "found": len(found),
        "new": len(fresh),
        "back": len(back),
        "resolved": resolved,
        "acceptances_expired": expired,
    }
