"""Writes of the hygiene app: refreshing the findings, their outcomes, the thresholds, and
revoking keys in bulk (each through its own service, so each gets its own action-log line)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgadmin.client import OrgAPIError
from orgadmin.hygiene.models import Finding, HygieneSettings
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.models import ActionLog, AdminApiKey, Organization, ProjectApiKey
from orgadmin.selectors.directory import admin_key_in_use
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused
from orgadmin.services.org_settings import admin_key_delete
from orgadmin.services.projects import project_key_delete


def finding_outcome_set(
    *,
    org: Organization,
    finding: Finding,
    outcome: str,
    actor: Any,
    reason: str = "",
    until: dt.date | None = None,
) -> Finding:
    """Accept (with a reason and a day it ends), ignore, or reopen a finding; in the action log."""
    if outcome == Finding.Outcome.ACCEPTED and (not reason.strip() or until is None):
        raise ChangeRefused(
            "Accepting a finding needs a reason and an expiry date.", field="reason"
        )
    finding.outcome, finding.reason = outcome, reason.strip()
    finding.accepted_until = until if outcome == Finding.Outcome.ACCEPTED else None
    finding.outcome_by, finding.outcome_at = actor, timezone.now()
    said = {
        Finding.Outcome.ACCEPTED: f"Accepted until {until}",
        Finding.Outcome.IGNORED: "Ignored",
        Finding.Outcome.OPEN: "Reopened",
    }[Finding.Outcome(outcome)]
    with transaction.atomic():
        finding.save(
            update_fields=["outcome", "reason", "accepted_until", "outcome_by", "outcome_at"]
        )
        action_record(
            actor=actor, org=org, action=f"hygiene.{outcome}",
            summary=f"{said} the hygiene finding “{finding.title}”"
            + (f": {finding.reason}" if finding.reason else ""),
            resource_type="hygiene_finding", resource_id=f"{finding.kind}:{finding.subject}",
        )  # fmt: skip
    return finding


def hygiene_settings_save(*, org: Organization, values: dict[str, int], actor: Any) -> None:
    """Change the thresholds (in the action log), then recompute the findings with them."""
    with transaction.atomic():
        HygieneSettings.objects.update_or_create(org=org, defaults=values)
        action_record(
            actor=actor, org=org, action="hygiene.settings",
            summary="Changed the hygiene thresholds: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(values.items())),
            resource_type="hygiene_settings", resource_id=str(org.pk),
        )  # fmt: skip
    hygiene_refresh(org=org)


@dataclass(frozen=True)
class RevokeOutcome:
    """What happened to one key of a bulk revoke."""

    ref: str  # "project:<key id>" or "admin:<key id>"
    label: str
    ok: bool
    message: str = ""
    request_id: str = ""


def _revoke_one(org: Organization, ref: str, actor: Any) -> RevokeOutcome:
    kind, _, key_id = ref.partition(":")
    if kind == "admin":
        admin = AdminApiKey.objects.filter(org=org, openai_id=key_id).first()
        if admin is None:
            return RevokeOutcome(ref, key_id, False, "No such admin key any more.")
        label = admin.name or admin.redacted_value or key_id
        if admin_key_in_use(org=org, key=admin):
            return RevokeOutcome(ref, label, False, "This dashboard uses this key: not revoked.")
        call: Any = lambda: admin_key_delete(org=org, key=admin, actor=actor)  # noqa: E731
    else:
        key = ProjectApiKey.objects.filter(org=org, openai_id=key_id).select_related("project")
        project_key = key.first()
        if project_key is None:
            return RevokeOutcome(ref, key_id, False, "No such key any more.")
        label = f"{project_key.name or project_key.redacted_value} ({project_key.project.name})"
        call = lambda: project_key_delete(org=org, key=project_key, actor=actor)  # noqa: E731
    try:
        call()
    except ChangeRefused as exc:
        return RevokeOutcome(ref, label, False, exc.message)
    except OrgAPIError as exc:
        return RevokeOutcome(ref, label, False, exc.message or str(exc), exc.request_id or "")
    line = ActionLog.objects.filter(org=org, resource_id=key_id).only("request_id").first()
    return RevokeOutcome(ref, label, True, request_id=line.request_id if line else "")


def keys_revoke(*, org: Organization, refs: list[str], actor: Any) -> list[RevokeOutcome]:
    """Revoke each key through its own service, one API call and action-log line each; a
    failure stops nothing and undoes nothing. Then the findings are recomputed."""
    outcomes = [_revoke_one(org, ref, actor) for ref in dict.fromkeys(refs)]
    if any(o.ok for o in outcomes):
        hygiene_refresh(org=org)
    return outcomes
