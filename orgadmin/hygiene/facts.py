"""What the rules are fed: the directory cache, the audit log's sign-ins and recent spend, read
into the plain facts of `orgadmin.hygiene.rules` (a fixed number of queries)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.db.models import Count, Max, Min

from orgadmin.hygiene.rules import (
    AdminKeyFact,
    CertificateFact,
    Facts,
    InviteFact,
    KeyFact,
    MemberFact,
    ProjectFact,
)
from orgadmin.hygiene.spend import RecentSpend, recent_spend
from orgadmin.models import (
    AdminApiKey,
    AuditEvent,
    Certificate,
    Invite,
    Organization,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectUser,
    ServiceAccount,
)
from orgadmin.selectors.directory import admin_key_in_use

SIGN_IN = "login.succeeded"


def hygiene_facts(*, org: Organization, now: dt.datetime) -> Facts:
    """Everything the rules look at, as of `now` (about 13 queries whatever the size)."""
    spend = recent_spend(org=org, now=now)
    projects = list(
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .annotate(alerts=Count("spend_alerts"))
        .order_by("name", "openai_id")
    )
    return Facts(
        now=now,
        currency=spend.currency,
        keys=_keys(org, spend),
        admin_keys=_admin_keys(org),
        members=_members(org),
        invites=[
            InviteFact(i.openai_id, i.email, i.role, i.created_at, i.expires_at)
            for i in Invite.objects.filter(org=org, status=Invite.Status.PENDING)
        ],
        projects=_projects(projects, spend),
        certificates=_certificates(org),
        audit_since=AuditEvent.objects.filter(org=org).aggregate(at=Min("effective_at"))["at"],
        spend_known=spend.known,
    )


def _keys(org: Organization, spend: RecentSpend) -> list[KeyFact]:
    members = set(
        ProjectUser.objects.filter(project__org=org).values_list("project_id", "user_openai_id")
    )
    accounts = set(
        ServiceAccount.objects.filter(project__org=org).values_list("project_id", "openai_id")
    )
    keys = ProjectApiKey.objects.filter(org=org, project__status=Project.Status.ACTIVE)
    return [
        KeyFact(
            key_id=k.openai_id,
            name=k.name,
            redacted=k.redacted_value,
            project_id=k.project.openai_id,
            project_name=k.project.name or k.project.openai_id,
            owner_type=k.owner_type,
            owner_id=k.owner_id,
            owner_label=k.owner_label or "an unknown owner",
            owner_is_member=(k.project_id, k.owner_id)
            in (accounts if k.owner_type == ProjectApiKey.OwnerType.SERVICE_ACCOUNT else members),
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            spend=spend.by_key.get(k.openai_id, Decimal(0)),
        )
        for k in keys.select_related("project").order_by("openai_id")
    ]


def _admin_keys(org: Organization) -> list[AdminKeyFact]:
    return [
        AdminKeyFact(
            key_id=k.openai_id,
            name=k.name,
            redacted=k.redacted_value,
            owner_label=k.owner_name or k.owner_id,
            created_at=k.created_at,
            expires_at=k.expires_at,
            last_used_at=k.last_used_at,
            dashboard_key=admin_key_in_use(org=org, key=k),
        )
        for k in AdminApiKey.objects.filter(org=org).order_by("openai_id")
    ]


def _members(org: Organization) -> list[MemberFact]:
    last = dict(
        AuditEvent.objects.filter(org=org, type=SIGN_IN)
        .exclude(actor_email="")
        .values_list("actor_email")
        .annotate(at=Max("effective_at"))
        .order_by()
    )
    last = {email.lower(): at for email, at in last.items()}
    return [
        MemberFact(u.openai_id, u.email, u.label, u.role, u.added_at, last.get(u.email.lower()))
        for u in OrgUser.objects.filter(org=org).order_by("openai_id")
    ]


def _projects(projects: list[Project], spend: RecentSpend) -> list[ProjectFact]:
    ids = [p.pk for p in projects]
    roles = Counter(
        ProjectUser.objects.filter(project_id__in=ids).values_list("project_id", "role")
    )
    account_owners = Counter(
        ServiceAccount.objects.filter(project_id__in=ids, role="owner").values_list(
            "project_id", flat=True
        )
    )
    return [
        ProjectFact(
            project_id=p.openai_id,
            name=p.name or p.openai_id,
            owners=roles[(p.pk, ProjectUser.Role.OWNER)],
            members=roles[(p.pk, ProjectUser.Role.OWNER)] + roles[(p.pk, ProjectUser.Role.MEMBER)],
            service_account_owners=account_owners[p.pk],
            has_limit=p.spend_limit_cents is not None,
            alerts=p.alerts,  # type: ignore[attr-defined]
            spend=spend.by_project.get(p.openai_id, Decimal(0)),
        )
        for p in projects
    ]


def _certificates(org: Organization) -> list[CertificateFact]:
    active_in: dict[str, list[str]] = {}
    for cert_id, name in ProjectCertificate.objects.filter(
        project__org=org, project__status=Project.Status.ACTIVE, active=True
    ).values_list("certificate_openai_id", "project__name"):
        active_in.setdefault(cert_id, []).append(name)
    return [
        CertificateFact(
            c.openai_id,
            c.name,
            c.expires_at,
            c.active,
            tuple(sorted(active_in.get(c.openai_id, []))),
        )
        for c in Certificate.objects.filter(org=org).order_by("openai_id")
    ]
