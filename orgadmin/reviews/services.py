"""Access review campaigns: starting one (the snapshot and its reviewers), the decisions, and
closing it (its exceptions and the audit log chain's head). Each step is in the action log.

Revocations through the API are in `orgadmin.reviews.revoke`, reminders in
`orgadmin.reviews.reminders`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgadmin.models import Organization
from orgadmin.reviews import selectors
from orgadmin.reviews.models import Campaign, Item, Reviewer
from orgadmin.reviews.snapshot import snapshot_items
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused


def _name(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def _log(campaign: Campaign, actor: Any, action: str, summary: str) -> None:
    action_record(
        actor=actor,
        org=campaign.org,
        action=action,
        summary=summary,
        resource_type="access_review",
        resource_id=str(campaign.pk),
    )


def _reviewers(
    campaign: Campaign, names: dict[str, str], named: Sequence[Any], *, by_owner: bool
) -> list[Reviewer]:
    """Each project's owners (when `by_owner`), and the named people for every project without
    one here (all of them when not `by_owner`). Refuses when a project would have nobody."""
    project_ids = list(names)
    owners = selectors.project_owners(org=campaign.org, project_ids=project_ids) if by_owner else {}
    missing = [p for p in project_ids if p not in owners]
    if missing and not named:
        listed = ", ".join(f"“{names[p]}”" for p in missing)
        raise ChangeRefused(
            f"No owner of {listed} signs in here with a role on this connection: name who "
            "reviews it.",
            field="people",
        )
    rows = []
    for project_id in project_ids:
        found = owners.get(project_id)
        people, source = (found, Reviewer.Source.OWNER) if found else (named, Reviewer.Source.NAMED)
        for person in people:
            rows.append(
                Reviewer(
                    campaign=campaign,
                    user=person,
                    name=_name(person),
                    email=person.email,
                    project_id=project_id,
                    project_name=names[project_id][:200],
                    source=source,
                )
            )
    return rows


def campaign_start(
    *,
    org: Organization,
    actor: Any,
    name: str,
    due_on: dt.date,
    project_ids: list[str] | None,
    by_owner: bool,
    people: Sequence[Any] = (),
    auto_revoke: bool = False,
) -> Campaign:
    """Start a campaign: freeze who has access to the projects in scope (all active ones when
    `project_ids` is None) and assign the reviewers (each project's owners when `by_owner`,
    `people` for the others; else `people` for all)."""
    campaign = Campaign(
        org=org,
        name=name,
        all_projects=project_ids is None,
        project_ids=sorted(project_ids or []),
        due_on=due_on,
        auto_revoke=auto_revoke,
        started_by=actor,
        started_by_name=_name(actor),
    )
    projects = selectors.active_projects(org=org)
    if project_ids is not None:
        projects = [p for p in projects if p.openai_id in set(project_ids)]
    if not projects:
        raise ChangeRefused("There is no active project to review.", field="projects")
    names = {p.openai_id: p.name or p.openai_id for p in projects}
    with transaction.atomic():
        campaign.save()
        reviewers = _reviewers(campaign, names, list(people), by_owner=by_owner)
        Reviewer.objects.bulk_create(reviewers)
        items = Item.objects.bulk_create(snapshot_items(campaign=campaign))
        _log(
            campaign,
            actor,
            "review.start",
            f"Started the access review “{name}”: {len(items)} access paths in "
            f"{len(names)} projects, {len({r.user_id for r in reviewers})} reviewers",
        )
    return campaign


def _refuse_if_closed(campaign: Campaign) -> None:
    if not campaign.is_open:
        raise ChangeRefused(f"“{campaign.name}” is closed: its decisions can't change.")


def decision_set(*, item: Item, actor: Any, decision: str, comment: str) -> Item:
    """Keep or revoke one item, with a comment (required to revoke). A reviewer may change
    their mind until the campaign closes, or until the revocation has been carried out."""
    from orgadmin.reviews.tasks import revocation_run

    comment = comment.strip()
    if decision == Item.Decision.REVOKE and not comment:
        raise ChangeRefused("Say why it should be revoked.", field="comment")
    with transaction.atomic():
        # The campaign's row first, as the close takes it: no decision lands after a close.
        campaign = Campaign.objects.select_for_update().get(pk=item.campaign_id)
        _refuse_if_closed(campaign)
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.revocation in (Item.Revocation.RUNNING, *selectors.DONE):
            raise ChangeRefused(f"“{locked.label}” has been revoked already.", field="decision")
        locked.decision, locked.comment = decision, comment
        locked.decided_by, locked.decided_by_name = actor, _name(actor)
        locked.decided_at = timezone.now()
        locked.revocation = Item.Revocation.PENDING if decision == Item.Decision.REVOKE else ""
        locked.revoke_error = ""
        locked.save()
        _log(
            campaign,
            actor,
            f"review.{decision}",
            f"{locked.get_decision_display()} {locked.label} in “{locked.project_name}” "
            f"({campaign.name})" + (f": {comment}" if comment else ""),
        )
        if decision == Item.Decision.REVOKE and campaign.auto_revoke:
            revocation_run.delay_on_commit(locked.pk)
    return locked


def keep_remaining(*, campaign: Campaign, actor: Any, project_ids: set[str] | None) -> int:
    """Keep every undecided item of these projects (all when None); returns how many."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_if_closed(campaign)
        items = Item.objects.filter(campaign=campaign, decision="")
        if project_ids is not None:
            items = items.filter(project_id__in=project_ids)
        count = items.update(
            decision=Item.Decision.KEEP,
            decided_by=actor,
            decided_by_name=_name(actor),
            decided_at=timezone.now(),
        )
        if count:
            _log(
                campaign,
                actor,
                "review.keep",
                f"Kept the {count} remaining items of “{campaign.name}”",
            )
    return count


def campaign_close(*, campaign: Campaign, actor: Any) -> Campaign:
    """Close a campaign: undecided items and revocations not carried out become exceptions,
    and the audit log chain's head is kept for the evidence."""
    from orgadmin.audit.chain import chain_head

    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_if_closed(locked)
        items = Item.objects.filter(campaign=locked)
        items.filter(decision="").update(exception=Item.Exception_.UNDECIDED)
        items.filter(decision=Item.Decision.REVOKE).exclude(revocation__in=selectors.DONE).update(
            exception=Item.Exception_.NOT_REVOKED
        )
        head = chain_head(org=locked.org)
        locked.closed_at, locked.closed_by, locked.closed_by_name = (
            timezone.now(),
            actor,
            _name(actor),
        )
        if head is not None:
            locked.chain_count, locked.chain_head, locked.chain_at = head.count, head.head, head.at
        locked.save()
        exceptions = items.exclude(exception="").count()
        _log(
            locked,
            actor,
            "review.close",
            f"Closed the access review “{locked.name}” with {exceptions} exceptions",
        )
    return locked
