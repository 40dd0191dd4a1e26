"""Reads of the directory cache for pages and for other apps. Never calls the API."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from orgadmin.models import (
    ActionLog,
    AdminApiKey,
    AuditName,
    Certificate,
    GroupMember,
    GroupRoleAssignment,
    Invite,
    Organization,
    OrgGroup,
    OrgRole,
    OrgSettings,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SpendAlert,
    UserRoleAssignment,
)
from orgadmin.providers import Capability
from orgadmin.selectors import sorting
from orgadmin.selectors.sorting import Sort
from orgadmin.selectors.spend import SpendColumn

# SQLite allows 32766 bound parameters per statement; four sub-selects share one statement.
_IDS_PER_QUERY = 2000


def display_names(*, org: Organization, ids: Iterable[str]) -> dict[str, str]:
    """Map OpenAI ids to what a person recognises, from the cache, in one query per 2,000 ids.

    Project ids → project names, API key ids → key names (else the redacted value), user ids →
    emails (else names), service account ids → names. Unknown ids are left out.
    """
    wanted = sorted({i for i in ids if i})
    names: dict[str, str] = {}
    # A connection whose API has no directory (an xAI team) names its keys from what its syncs
    # were told (AuditName: the cost sync's key labels), in as many queries.
    query = (
        _display_names_query
        if org.has_capability(Capability.PROJECT_KEYS)
        else _remembered_names_query
    )
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        names.update(query(org=org, ids=chunk))
    return names


def _remembered_names_query(*, org: Organization, ids: list[str]) -> dict[str, str]:
    return dict(
        AuditName.objects.filter(org=org, object_id__in=ids).values_list("object_id", "name")
    )


def _label(*fields: str) -> Coalesce:
    """The first non-empty of `fields`, as text."""
    return Coalesce(*(NullIf(f, Value("")) for f in fields), Value(""), output_field=CharField())


def directory_names(*, org: Organization) -> dict[str, str]:
    """Every name the directory cache knows now (projects, keys, members, service accounts), in
    one query: what the directory sync keeps for after they are deleted (see AuditName)."""
    return _display_names_query(org=org, ids=None)


def _display_names_query(*, org: Organization, ids: list[str] | None) -> dict[str, str]:
    which = {} if ids is None else {"openai_id__in": ids}
    projects = Project.objects.filter(org=org, **which).annotate(label=_label("name", "openai_id"))
    keys = ProjectApiKey.objects.filter(org=org, **which).annotate(
        label=_label("name", "redacted_value")
    )
    admin_keys = AdminApiKey.objects.filter(org=org, **which).annotate(
        label=_label("name", "redacted_value")
    )
    users = OrgUser.objects.filter(org=org, **which).annotate(label=_label("email", "name"))
    accounts = ServiceAccount.objects.filter(project__org=org, **which).annotate(
        label=_label("name", "openai_id")
    )
    # Default orderings are cleared: a compound statement may not order its parts.
    parts = [
        qs.order_by().values_list("openai_id", "label")
        for qs in (keys, admin_keys, users, accounts)
    ]
    rows = projects.order_by().values_list("openai_id", "label").union(*parts, all=True)
    return {openai_id: label for openai_id, label in rows if label}


# --- pages ------------------------------------------------------------------------------------


def _count(model: type[Model], *, to: str = "project") -> Coalesce:
    """How many `model` rows point at the outer row, as a correlated sub-select."""
    rows = (
        model.objects.filter(**{to: OuterRef("pk")})
        .order_by()
        .values(to)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def users_list(
    *, org: Organization, q: str = "", role: str = "", sort: Sort | None = None
) -> QuerySet[OrgUser]:
    """Members, searched by name, email or id, with how many projects each is in."""
    users = OrgUser.objects.filter(org=org)
    if q:
        users = users.filter(Q(email__icontains=q) | Q(name__icontains=q) | Q(openai_id=q))
    if role:
        users = users.filter(role=role)
    memberships = (
        ProjectUser.objects.filter(project__org=org, user_openai_id=OuterRef("openai_id"))
        .order_by()
        .values("user_openai_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return users.annotate(
        project_count=Coalesce(Subquery(memberships, output_field=IntegerField()), 0)
    ).order_by(*(sort or sorting.MEMBERS.default_sort).order_by())


def owner_count(*, org: Organization) -> int:
    return OrgUser.objects.filter(org=org, role=OrgUser.Role.OWNER).count()


def user_memberships(*, org: Organization, user_id: str) -> QuerySet[ProjectUser]:
    """A member's project memberships, with their projects."""
    return (
        ProjectUser.objects.filter(project__org=org, user_openai_id=user_id)
        .select_related("project")
        .order_by("project__name")
    )


def user_groups(*, org: Organization, user_id: str) -> QuerySet[OrgGroup]:
    return OrgGroup.objects.filter(org=org, members__user_openai_id=user_id).order_by("name")


def user_roles(*, org: Organization, user_id: str) -> list[tuple[str, OrgRole | None]]:
    """The roles assigned to a member directly: (role id, role or None if not cached)."""
    ids = list(
        UserRoleAssignment.objects.filter(org=org, user_openai_id=user_id).values_list(
            "role_openai_id", flat=True
        )
    )
    roles = {r.openai_id: r for r in OrgRole.objects.filter(org=org, openai_id__in=ids)}
    return sorted(((i, roles.get(i)) for i in ids), key=lambda p: p[1].name if p[1] else p[0])


def invites_list(
    *, org: Organization, status: str = "", q: str = "", sort: Sort | None = None
) -> QuerySet[Invite]:
    invites = Invite.objects.filter(org=org)
    if status:
        invites = invites.filter(status=status)
    if q:
        invites = invites.filter(email__icontains=q)
    return invites.order_by(*(sort or sorting.INVITES.default_sort).order_by())


def invite_conflict(*, org: Organization, email: str) -> str | None:
    """Why this email can't be invited now (already a member, or already invited), or None."""
    if OrgUser.objects.filter(org=org, email__iexact=email).exists():
        return f"{email} is already a member of the organization."
    pending = Invite.objects.filter(
        org=org, email__iexact=email, status=Invite.Status.PENDING
    ).first()
    if pending is not None:
        sent = f" (sent {pending.created_at:%Y-%m-%d})" if pending.created_at else ""
        return f"{email} already has a pending invite{sent}. Revoke it first to send a new one."
    return None


def invite_counts(*, org: Organization) -> dict[str, int]:
    """How many invites have each status (one query)."""
    rows = Invite.objects.filter(org=org).order_by().values("status").annotate(n=Count("*"))
    counts = {s: 0 for s in Invite.Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def projects_list(
    *,
    org: Organization,
    status: str = "active",
    q: str = "",
    sort: Sort | None = None,
    spend: SpendColumn | None = None,
) -> QuerySet[Project]:
    """Projects with their counts of members, service accounts and API keys, and `month_spend`:
    the `spend` column's amount, or None."""
    projects = Project.objects.filter(org=org)
    if status in Project.Status.values:
        projects = projects.filter(status=status)
    if q:
        projects = projects.filter(Q(name__icontains=q) | Q(openai_id=q))
    # This month's spend when asked for (spend.project_spend_column), else None: the "spend"
    # order is then the name's.
    return projects.annotate(
        member_count=_count(ProjectUser),
        service_account_count=_count(ServiceAccount),
        key_count=_count(ProjectApiKey),
        month_spend=spend.expression if spend else Value(None, output_field=IntegerField()),
    ).order_by(*(sort or sorting.PROJECTS.default_sort).order_by())


def project_status_counts(*, org: Organization) -> dict[str, int]:
    rows = Project.objects.filter(org=org).order_by().values("status").annotate(n=Count("*"))
    counts = {s: 0 for s in Project.Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def project_keys(*, project: Project, sort: Sort | None = None) -> QuerySet[ProjectApiKey]:
    return (
        ProjectApiKey.objects.filter(project=project)
        .select_related("project")
        .order_by(*(sort or sorting.KEYS.default_sort).order_by())
    )


def models_known(*, org: Organization) -> list[str]:
    """The models the organization's projects have rate limits for: every model it may call
    (the usage rows are the dashboard's, which orgadmin doesn't read), sorted, in one query."""
    rows = RateLimit.objects.filter(project__org=org).order_by("model").values_list("model")
    return [m for (m,) in rows.distinct() if m]


def project_members(*, project: Project, sort: Sort | None = None) -> QuerySet[ProjectUser]:
    return project.users.order_by(*(sort or sorting.PROJECT_MEMBERS.default_sort).order_by())


def project_service_accounts(
    *, project: Project, sort: Sort | None = None
) -> QuerySet[ServiceAccount]:
    order = (sort or sorting.SERVICE_ACCOUNTS.default_sort).order_by()
    return project.service_accounts.order_by(*order)


def keys_list(
    *,
    org: Organization,
    q: str = "",
    owner: str = "",
    project_id: str = "",
    sort: Sort | None = None,
) -> QuerySet[ProjectApiKey]:
    """Project API keys across projects (newest first unless `sort` says otherwise), searched by
    name, owner or project."""
    keys = ProjectApiKey.objects.filter(org=org).select_related("project")
    if q:
        keys = keys.filter(
            Q(name__icontains=q)
            | Q(owner_name__icontains=q)
            | Q(owner_email__icontains=q)
            | Q(redacted_value__icontains=q)
            | Q(project__name__icontains=q)
            | Q(openai_id=q)
        )
    if owner:
        keys = keys.filter(owner_type=owner)
    if project_id:
        keys = keys.filter(project__openai_id=project_id)
    return keys.order_by(*(sort or sorting.KEYS.default_sort).order_by())


def groups_list(*, org: Organization, q: str = "", sort: Sort | None = None) -> QuerySet[OrgGroup]:
    groups = OrgGroup.objects.filter(org=org)
    if q:
        groups = groups.filter(name__icontains=q)
    order = (sort or sorting.GROUPS.default_sort).order_by()
    return groups.annotate(member_count=_count(GroupMember, to="group")).order_by(*order)


def group_roles(*, group: OrgGroup) -> list[tuple[str, OrgRole | None]]:
    ids = list(group.roles.values_list("role_openai_id", flat=True))
    roles = {r.openai_id: r for r in OrgRole.objects.filter(org_id=group.org_id, openai_id__in=ids)}
    return sorted(((i, roles.get(i)) for i in ids), key=lambda p: p[1].name if p[1] else p[0])


def roles_list(*, org: Organization, sort: Sort | None = None) -> QuerySet[OrgRole]:
    """Roles with how many members and groups hold each directly."""
    users = (
        UserRoleAssignment.objects.filter(org=org, role_openai_id=OuterRef("openai_id"))
        .order_by()
        .values("role_openai_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    groups = (
        GroupRoleAssignment.objects.filter(group__org=org, role_openai_id=OuterRef("openai_id"))
        .order_by()
        .values("role_openai_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        OrgRole.objects.filter(org=org)
        .annotate(
            user_count=Coalesce(Subquery(users, output_field=IntegerField()), 0),
            group_count=Coalesce(Subquery(groups, output_field=IntegerField()), 0),
        )
        .order_by(*(sort or sorting.ROLES.default_sort).order_by())
    )


def user_suggestions(*, org: Organization, q: str, limit: int = 15) -> list[OrgUser]:
    """Members whose email or name starts a match for `q`, for type-ahead fields."""
    if not q.strip():
        return []
    q = q.strip()
    return list(
        OrgUser.objects.filter(org=org)
        .filter(Q(email__icontains=q) | Q(name__icontains=q))
        .only("email", "name", "openai_id")
        .order_by("email")[:limit]
    )


def org_settings(*, org: Organization) -> OrgSettings:
    """The cached organization settings (an unsaved blank one before the first sync)."""
    return OrgSettings.objects.filter(org=org).first() or OrgSettings(org=org)


def spend_alerts(*, org: Organization, project: Project | None = None) -> QuerySet[SpendAlert]:
    return SpendAlert.objects.filter(org=org, project=project).order_by("threshold_cents")


def certificates_list(*, org: Organization) -> QuerySet[Certificate]:
    """Org certificates, with in how many projects each is active."""
    active_in = (
        ProjectCertificate.objects.filter(
            project__org=org, certificate_openai_id=OuterRef("openai_id"), active=True
        )
        .order_by()
        .values("certificate_openai_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Certificate.objects.filter(org=org)
        .annotate(project_count=Coalesce(Subquery(active_in, output_field=IntegerField()), 0))
        .order_by("-created_at", "openai_id")
    )


def actions_list(
    *,
    org: Organization | None,
    q: str = "",
    outcome: str = "",
    sort: Sort | None = None,
    unattached: bool = True,
) -> QuerySet[ActionLog]:
    """Our action log, newest first: one organization's actions and, with `unattached`, those
    tied to none (like removing a connection, or any action on a connection removed since);
    everything when `org` is None."""
    actions = ActionLog.objects.all()
    if org is not None:
        actions = actions.filter(Q(org=org) | Q(org__isnull=True) if unattached else Q(org=org))
    if q:
        actions = actions.filter(
            Q(summary__icontains=q)
            | Q(actor_name__icontains=q)
            | Q(action__icontains=q)
            | Q(resource_id=q)
            | Q(request_id=q)
        )
    if outcome:
        actions = actions.filter(outcome=outcome)
    return actions.order_by(*(sort or sorting.ACTIONS.default_sort).order_by())


def admin_keys_list(*, org: Organization, sort: Sort | None = None) -> list[AdminApiKey]:
    order = (sort or sorting.ADMIN_KEYS.default_sort).order_by()
    return list(AdminApiKey.objects.filter(org=org).order_by(*order))


def admin_key_in_use(*, org: Organization, key: AdminApiKey) -> bool:
    """Whether this may be the key the dashboard itself uses for `org` (the visible ends
    match): deleting it would cut the connection."""
    return bool(key.redacted_value) and _same_key(key.redacted_value, org.admin_key_masked)


def _same_key(redacted: str, masked: str) -> bool:
    """Whether an API-redacted key (sk-admin...xyz) and our mask (sk-admin-…wxyz) could be the
    same key: the characters both show at the end agree."""
    shown = redacted.rsplit("...", 1)[-1] if "..." in redacted else redacted.rsplit("…", 1)[-1]
    ours = masked.rsplit("…", 1)[-1]
    overlap = min(len(shown), len(ours))
    return overlap >= 3 and shown[-overlap:] == ours[-overlap:]
