"""Who can reach which project, in what role, and by which path: read from the directory cache.

`project_access` is the public read other apps build on (access reviews, the matrix page, the
access history): one row per path to a project, never the API.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from orgadmin.models import (
    GroupMember,
    Organization,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectGroup,
    ProjectUser,
    ServiceAccount,
)

KIND_USER = "user"
KIND_SERVICE_ACCOUNT = "service_account"
KIND_API_KEY = "api_key"
# The order rows take within a project: people, then service accounts, then keys.
KINDS: tuple[str, ...] = (KIND_USER, KIND_SERVICE_ACCOUNT, KIND_API_KEY)
KIND_LABELS: dict[str, str] = {
    KIND_USER: "Person",
    KIND_SERVICE_ACCOUNT: "Service account",
    KIND_API_KEY: "API key",
}


@dataclass(frozen=True)
class Access:
    """One path by which someone or something reaches a project."""

    project_id: str
    project_name: str
    kind: str  # "user" | "service_account" | "api_key"
    subject_id: str  # user id, service account id, or key id
    label: str  # a person's name or email; a service account's name; a key's name + redacted value
    email: str  # a person's email ("" otherwise; for a key: its owner's email if a person)
    role: str  # project role "owner" | "member"; "" when the cache doesn't know it
    via: str  # "" when direct; "group <name>"; for a key "owned by <owner label>"

    @property
    def direct(self) -> bool:
        return self.kind != KIND_API_KEY and not self.via

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def project_access(*, org: Organization, project_ids: list[str] | None = None) -> list[Access]:
    """Every active project's people (direct and through groups), service accounts and keys.

    From the directory cache, in six queries whatever the size of the organization; ordered by
    project name, kind (people, service accounts, keys) and label. A person both direct and in
    a group of the project appears once per path. A group's project role is not in the API's
    project-group listing, so people reached through a group carry role "".
    """
    projects = Project.objects.filter(org=org, status=Project.Status.ACTIVE)
    if project_ids is not None:
        projects = projects.filter(openai_id__in=project_ids)
    listed = list(projects.values_list("pk", "openai_id", "name"))
    if not listed:
        return []
    ids = {pk: openai_id for pk, openai_id, _ in listed}
    names = {pk: name or openai_id for pk, openai_id, name in listed}
    rows: list[Access] = []
    roles = _people(names, ids, rows)
    _groups(org, names, ids, rows)
    sa_roles = _service_accounts(names, ids, rows)
    _keys(names, ids, roles, sa_roles, rows)
    order = {kind: n for n, kind in enumerate(KINDS)}
    rows.sort(
        key=lambda a: (
            a.project_name.casefold(),
            a.project_id,
            order[a.kind],
            a.label.casefold(),
            a.via,  # a person's direct path first, then their groups
            a.subject_id,
        )
    )
    return rows


def _people(names: dict, ids: dict, rows: list[Access]) -> dict[tuple[int, str], str]:
    """Direct members; returns their roles by (project pk, user id), for their keys."""
    roles: dict[tuple[int, str], str] = {}
    members = ProjectUser.objects.filter(project_id__in=list(names)).values_list(
        "project_id", "user_openai_id", "email", "name", "role"
    )
    for pk, user_id, email, name, role in members:
        roles[(pk, user_id)] = role
        rows.append(
            Access(
                project_id=ids[pk],
                project_name=names[pk],
                kind=KIND_USER,
                subject_id=user_id,
                label=name or email or user_id,
                email=email,
                role=role,
                via="",
            )
        )
    return roles


def _groups(org: Organization, names: dict, ids: dict, rows: list[Access]) -> None:
    """People reached through a group the project lists."""
    listed = ProjectGroup.objects.filter(project_id__in=list(names))
    links = list(listed.values_list("project_id", "group_openai_id", "group_name"))
    members: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    group_names: dict[str, str] = {}
    # A sub-select, not a list of ids: one query whether the projects list groups or not.
    found = GroupMember.objects.filter(
        group__org=org, group__openai_id__in=listed.values("group_openai_id")
    ).values_list("group__openai_id", "group__name", "user_openai_id", "name", "email")
    for group_id, group_name, user_id, name, email in found:
        members[group_id].append((user_id, name, email))
        group_names[group_id] = group_name
    for pk, group_id, listed_name in links:
        via = f"group {listed_name or group_names.get(group_id) or group_id}"
        for user_id, name, email in members.get(group_id, []):
            rows.append(
                Access(
                    project_id=ids[pk],
                    project_name=names[pk],
                    kind=KIND_USER,
                    subject_id=user_id,
                    label=name or email or user_id,
                    email=email,
                    role="",
                    via=via,
                )
            )


def _service_accounts(names: dict, ids: dict, rows: list[Access]) -> dict[tuple[int, str], str]:
    roles: dict[tuple[int, str], str] = {}
    accounts = ServiceAccount.objects.filter(project_id__in=list(names)).values_list(
        "project_id", "openai_id", "name", "role"
    )
    for pk, account_id, name, role in accounts:
        roles[(pk, account_id)] = role
        rows.append(
            Access(
                project_id=ids[pk],
                project_name=names[pk],
                kind=KIND_SERVICE_ACCOUNT,
                subject_id=account_id,
                label=name or account_id,
                email="",
                role=role,
                via="",
            )
        )
    return roles


def _keys(
    names: dict,
    ids: dict,
    roles: dict[tuple[int, str], str],
    sa_roles: dict[tuple[int, str], str],
    rows: list[Access],
) -> None:
    keys = ProjectApiKey.objects.filter(project_id__in=list(names)).values_list(
        "project_id",
        "openai_id",
        "name",
        "redacted_value",
        "owner_type",
        "owner_id",
        "owner_name",
        "owner_email",
    )
    for pk, key_id, name, redacted, owner_type, owner_id, owner_name, owner_email in keys:
        person = owner_type == ProjectApiKey.OwnerType.USER
        role = (roles if person else sa_roles).get((pk, owner_id), "")
        owner = owner_name or owner_email or owner_id
        rows.append(
            Access(
                project_id=ids[pk],
                project_name=names[pk],
                kind=KIND_API_KEY,
                subject_id=key_id,
                label=_key_label(name, redacted, key_id),
                email=owner_email if person else "",
                role=role,
                via=f"owned by {owner}" if owner else "",
            )
        )


def _key_label(name: str, redacted: str, key_id: str) -> str:
    if name and redacted:
        return f"{name} ({redacted})"
    return name or redacted or key_id


def access_filter(
    rows: list[Access], *, q: str = "", role: str = "", kind: str = "", path: str = ""
) -> list[Access]:
    """The rows a page's filters keep: `q` in a name, email, id, path or project; `role` a
    project role or "unknown"; `kind` one of KINDS; `path` "direct", "group" or "key"."""
    words = q.casefold().split()

    def keep(a: Access) -> bool:
        if role and (a.role or "unknown") != role:
            return False
        if kind and a.kind != kind:
            return False
        if path and _path_of(a) != path:
            return False
        text = f"{a.label} {a.email} {a.subject_id} {a.via} {a.project_name} {a.project_id}"
        return all(w in text.casefold() for w in words)

    return [a for a in rows if keep(a)]


def _path_of(a: Access) -> str:
    if a.kind == KIND_API_KEY:
        return "key"
    return "group" if a.via else "direct"


@dataclass(frozen=True)
class OrgOwner:
    user_id: str
    label: str
    email: str


def org_owners(*, org: Organization) -> list[OrgOwner]:
    """The organization's owners (one query): they manage every project, listed or not."""
    owners = OrgUser.objects.filter(org=org, role=OrgUser.Role.OWNER).order_by("name", "email")
    return [OrgOwner(u.openai_id, u.label, u.email) for u in owners]
