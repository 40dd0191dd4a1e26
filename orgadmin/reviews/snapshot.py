"""What a campaign freezes when it starts: every access path of the projects in scope (from the
access matrix's `project_access`), each with the words for what revoking it will do."""

from __future__ import annotations

from collections import defaultdict

from orgadmin.access_matrix.selectors import Access, project_access
from orgadmin.models import Organization, Project, ProjectApiKey, ProjectGroup
from orgadmin.reviews.models import Campaign, Item

GROUP_PREFIX = "group "


def _group_links(org: Organization) -> tuple[dict[tuple[str, str], str], dict[str, list[str]]]:
    """(project id, group name) → group id; group id → the names of the projects it reaches."""
    ids: dict[tuple[str, str], str] = {}
    reaches: dict[str, list[str]] = defaultdict(list)
    links = ProjectGroup.objects.filter(
        project__org=org, project__status=Project.Status.ACTIVE
    ).values_list("project__openai_id", "project__name", "group_openai_id", "group_name")
    for project_id, project_name, group_id, group_name in links:
        ids[(project_id, group_name or group_id)] = group_id
        reaches[group_id].append(project_name or project_id)
    return ids, reaches


def _key_owners(org: Organization) -> dict[str, tuple[str, str]]:
    """Key id → (the service account that owns it, its name), for service accounts' keys."""
    rows = ProjectApiKey.objects.filter(
        org=org, owner_type=ProjectApiKey.OwnerType.SERVICE_ACCOUNT
    ).values_list("openai_id", "owner_id", "owner_name")
    return {key_id: (owner_id, owner_name) for key_id, owner_id, owner_name in rows}


def _others(reaching: list[str], project_name: str) -> str:
    others = sorted({name for name in reaching if name != project_name}, key=str.casefold)
    if not others:
        return "It reaches no other project."
    return "It also reaches " + ", ".join(f"“{n}”" for n in others) + ": those go too."


def _target_and_effect(
    access: Access,
    groups: tuple[dict[tuple[str, str], str], dict[str, list[str]]],
    key_owners: dict[str, tuple[str, str]],
) -> tuple[str, str]:
    """What a revocation acts on (a group, a key's service account; else nothing more than the
    subject) and what it will do, in words shown beside the decision."""
    project = f"“{access.project_name}”"
    if access.kind == "user" and access.via.startswith(GROUP_PREFIX):
        name = access.via.removeprefix(GROUP_PREFIX)
        group_id = groups[0].get((access.project_id, name), "")
        others = _others(groups[1].get(group_id, []), access.project_name)
        return group_id, (
            f"Removes {access.label} from the group “{name}” (not the whole group from the "
            f"project, which would cut off its other members). {others}"
        )
    if access.kind == "user":
        return "", f"Removes {access.label} from {project}; they stay in the organization."
    if access.kind == "service_account":
        return "", f"Deletes the service account “{access.label}” and its API keys from {project}."
    owner = key_owners.get(access.subject_id)
    if owner is not None:
        return owner[0], (
            f"OpenAI deletes a service account's key only with its service account: deletes "
            f"the service account “{owner[1] or owner[0]}” and all its keys in {project}."
        )
    return "", f"Deletes this API key ({access.via or 'no owner known'}) from {project}."


def snapshot_items(*, campaign: Campaign) -> list[Item]:
    """The campaign's items as they stand in the directory cache now (unsaved)."""
    org = campaign.org
    chosen = None if campaign.all_projects else list(campaign.project_ids)
    groups = _group_links(org)
    key_owners = _key_owners(org)
    items: dict[tuple[str, str, str, str], Item] = {}
    for access in project_access(org=org, project_ids=chosen):
        target, effect = _target_and_effect(access, groups, key_owners)
        key = (access.project_id, access.kind, access.subject_id, access.via)
        items[key] = Item(
            campaign=campaign,
            project_id=access.project_id,
            project_name=access.project_name[:200],
            kind=access.kind,
            subject_id=access.subject_id,
            label=access.label[:300],
            email=access.email[:254],
            role=access.role[:40],
            via=access.via[:300],
            target_id=target,
            effect=effect[:500],
        )
    return list(items.values())
