"""Reads of the stored findings: the page's groups and counts, the bulk revoke's preview and the
Auditor digest's section. A fixed number of queries each."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from orgadmin.hygiene.models import Finding, open_q
from orgadmin.hygiene.rules import KEY_KINDS, Group, Kind, Severity, money
from orgadmin.hygiene.spend import recent_spend
from orgadmin.models import AdminApiKey, Organization, ProjectApiKey
from orgadmin.selectors.directory import admin_key_in_use

ADMIN_KINDS = frozenset({Kind.ADMIN_KEY_NO_EXPIRY, Kind.ADMIN_KEY_OLD, Kind.ADMIN_KEY_UNUSED})
SHOWS = {"open": "Open", "accepted": "Accepted", "ignored": "Ignored", "resolved": "Resolved"}
PER_SECTION = 50  # a section lists this many findings until someone asks for all of them


def _shown(org: Organization, now: dt.datetime, show: str) -> QuerySet[Finding]:
    rows = Finding.objects.filter(org=org)
    if show == "accepted":
        return rows.filter(
            resolved_at__isnull=True,
            outcome=Finding.Outcome.ACCEPTED,
            accepted_until__gt=now.date(),
        )
    if show == "ignored":
        return rows.filter(resolved_at__isnull=True, outcome=Finding.Outcome.IGNORED)
    if show == "resolved":
        return rows.filter(resolved_at__isnull=False)
    return rows.filter(open_q(now))


def revoke_ref(f: Finding) -> str | None:
    """What a bulk revoke is given for a key finding ("project:<id>" or "admin:<id>"), or None
    when the key can't be revoked from here (a service account's key, this dashboard's key)."""
    if f.kind in ADMIN_KINDS:
        return None if f.evidence.get("dashboard_key") else f"admin:{f.subject}"
    if f.kind in KEY_KINDS and f.evidence.get("owner_type") != "service_account":
        return f"project:{f.subject}"
    return None


def fix_url(f: Finding) -> str:
    """The page where a finding is fixed by hand."""
    ev = f.evidence
    if f.kind in ADMIN_KINDS:
        return reverse("orgadmin:admin_keys")
    if f.kind in KEY_KINDS:
        tab = "service-accounts" if ev.get("owner_type") == "service_account" else "api-keys"
        return reverse("orgadmin:project_tab", args=[ev.get("project_id"), tab])
    return {
        Kind.OWNERS_EXCESS: lambda: reverse("orgadmin:members"),
        Kind.MEMBER_DORMANT: lambda: reverse("orgadmin:member", args=[f.subject]),
        Kind.INVITE_STALE: lambda: reverse("orgadmin:invites"),
        Kind.PROJECT_NO_OWNER: lambda: reverse("orgadmin:project_tab", args=[f.subject, "members"]),
        Kind.PROJECT_SPEND_UNGUARDED: lambda: reverse(
            "orgadmin:project_tab", args=[f.subject, "spend"]
        ),
    }.get(Kind(f.kind), lambda: reverse("orgadmin:org_settings"))()


# How the evidence's fields are named on the page, in this order; the others are ids for links.
EVIDENCE = {
    "key": "Key", "project": "Project", "owner": "Owner", "member": "Member", "email": "Email",
    "role": "Role", "owners": "Owners", "count": "Count", "certificate": "Certificate",
    "created": "Created", "added": "Added", "sent": "Sent", "last_used": "Last used",
    "last_sign_in": "Last sign-in", "audit_log_since": "Audit log synced since",
    "expires": "Expires", "active_org_wide": "Active organization-wide",
    "active_in": "Active in projects", "spend_30d": "Spend, last 30 days",
    "members": "Members", "service_account_owners": "Service accounts owning it",
    "also": "Also flagged", "threshold_days": "Threshold (days)", "threshold": "Threshold",
}  # fmt: skip
_NEVER = {"last_used": "never", "last_sign_in": "none seen", "expires": "never"}


def evidence_rows(f: Finding) -> list[tuple[str, str]]:
    """The evidence as (label, text) pairs for the page and the digest."""
    rows = []
    for name, label in EVIDENCE.items():
        if name not in f.evidence:
            continue
        value = f.evidence[name]
        if value is None:
            text = _NEVER.get(name, "unknown")
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = str(value)
        rows.append((label, text))
    return rows


@dataclass(frozen=True)
class FindingGroup:
    name: str
    findings: list[Finding]  # the first PER_SECTION, or all of them when the section is expanded
    total: int

    @property
    def slug(self) -> str:
        return self.name.lower()

    @property
    def more(self) -> int:
        """How many of the section's findings are not listed."""
        return self.total - len(self.findings)


def _decorated(rows: list[Finding]) -> list[Finding]:
    for f in rows:
        f.revoke_ref = revoke_ref(f)  # type: ignore[attr-defined]
        f.fix_url = fix_url(f)  # type: ignore[attr-defined]
        f.evidence_rows = evidence_rows(f)  # type: ignore[attr-defined]
    return rows


def findings_grouped(
    *,
    org: Organization,
    now: dt.datetime,
    show: str,
    kind: str = "",
    severity: str = "",
    expand: str = "",
    per_section: int = PER_SECTION,
) -> list[FindingGroup]:
    """The findings `show` asks for ("open" by default), of one kind and severity when given, by
    group in a fixed order: the most severe first, then by title (resolved ones: the latest
    first). Each group lists its first `per_section` and its total, all of them for the group
    `expand` names; each finding has `revoke_ref`, `fix_url` and `evidence_rows` set. One query,
    two with a group expanded."""
    rows = _shown(org, now, show if show in SHOWS else "open").select_related("outcome_by")
    rows = rows.filter(kind=kind) if kind else rows
    rows = rows.filter(severity=severity) if severity else rows
    order = [F("resolved_at").desc(), "title"] if show == "resolved" else ["rank", "title"]
    first = rows.annotate(
        position=Window(RowNumber(), partition_by=F("group"), order_by=order),
        in_group=Window(Count("pk"), partition_by=F("group")),
    ).filter(position__lte=per_section)
    by_group: dict[str, list[Finding]] = {g.value: [] for g in Group}
    totals: dict[str, int] = {}
    for f in first.order_by("group", *order):
        by_group.setdefault(f.group, []).append(f)
        totals[f.group] = f.in_group
    if expand in totals and totals[expand] > per_section:
        by_group[expand] = list(rows.filter(group=expand).order_by(*order))
    return [
        FindingGroup(name, _decorated(items), totals[name])
        for name, items in by_group.items()
        if items
    ]


def finding_counts(*, org: Organization, now: dt.datetime) -> dict[str, int]:
    """How many findings count (open, or accepted until a day that came) by severity, and how
    many are accepted and ignored. One query."""
    today = now.date()
    current = Q(resolved_at__isnull=True)
    counts = {s.value: Count("pk", filter=open_q(now) & Q(severity=s.value)) for s in Severity} | {
        "accepted": Count(
            "pk",
            filter=current & Q(outcome=Finding.Outcome.ACCEPTED, accepted_until__gt=today),
        ),
        "ignored": Count("pk", filter=current & Q(outcome=Finding.Outcome.IGNORED)),
        "resolved": Count("pk", filter=Q(resolved_at__isnull=False)),
    }
    result = Finding.objects.filter(org=org).aggregate(**counts)
    result["open"] = sum(result[s.value] for s in Severity)
    return result


@dataclass(frozen=True)
class PreviewRow:
    """One key of a bulk revoke, as the preview shows it."""

    ref: str
    label: str
    project: str
    owner: str
    last_used: dt.datetime | None
    created: dt.datetime | None
    spend: Decimal | None  # the last 30 days; None when unknown
    spend_text: str
    revocable: bool
    note: str = ""


def revoke_preview(*, org: Organization, refs: list[str], now: dt.datetime) -> list[PreviewRow]:
    """Each key the refs name, with its project, owner, last use and 30-day spend; keys gone
    since the last sync are left out. Two queries and the spend reader's."""
    wanted = {ref.partition(":")[2] for ref in refs}
    project_keys = ProjectApiKey.objects.filter(org=org, openai_id__in=wanted).select_related(
        "project"
    )
    admin_keys = AdminApiKey.objects.filter(org=org, openai_id__in=wanted)
    spend = recent_spend(org=org, now=now)
    rows: dict[str, PreviewRow] = {}
    for k in project_keys:
        spent = spend.by_key.get(k.openai_id, Decimal(0)) if spend.known else None
        account = k.owner_type == ProjectApiKey.OwnerType.SERVICE_ACCOUNT
        rows[f"project:{k.openai_id}"] = PreviewRow(
            f"project:{k.openai_id}", f"{k.name or k.openai_id} ({k.redacted_value})",
            k.project.name, k.owner_label, k.last_used_at, k.created_at, spent,
            money(spent, spend.currency) if spent is not None else "unknown (no costs synced)",
            revocable=not account,
            note="A service account's key: delete the service account instead." if account else "",
        )  # fmt: skip
    for a in admin_keys:
        ours = admin_key_in_use(org=org, key=a)
        rows[f"admin:{a.openai_id}"] = PreviewRow(
            f"admin:{a.openai_id}", f"{a.name or a.openai_id} ({a.redacted_value})",
            "Admin key (organization)", a.owner_name or a.owner_id, a.last_used_at,
            a.created_at, None, "not billed to a key", revocable=not ours,
            note="This dashboard uses this key: replace it on Connections first." if ours else "",
        )  # fmt: skip
    return [rows[r] for r in dict.fromkeys(refs) if r in rows]


@dataclass(frozen=True)
class DigestSection:
    """The Auditor digest's hygiene section."""

    counts: dict[str, int]  # open findings by severity
    new: list[Finding]  # first seen since the last digest
    worst: list[Finding]


def hygiene_digest(
    *, org: Organization, now: dt.datetime, since: dt.datetime, worst: int = 5
) -> DigestSection:
    """Open findings by severity, the new ones since `since`, the worst few. One query."""
    rows = list(Finding.objects.filter(org=org).filter(open_q(now)).order_by("rank", "title"))
    counts = Counter(f.severity for f in rows)
    return DigestSection(
        counts={s.value: counts[s.value] for s in Severity},
        new=[f for f in rows if f.first_seen >= since],
        worst=rows[:worst],
    )
