"""Carrying out a campaign's revocations through the API, with the project services.

Each item is claimed first (a conditional update: two workers or two clicks never send it
twice), then its service runs (`api_change`: the API, then the cache and the action log in one
transaction), then its outcome is written: "Revoked" with OpenAI's request id, read from the
action log line `api_change` wrote; "Already gone" when the directory cache no longer has it;
"Failed" with the error and its request id, which can be retried.

What each kind does:
- a person in the project directly: `project_user_remove` (they stay in the organization);
- a person through a group: `group_user_remove`, the person out of that group. Removing the
  group from the project (`project_group_remove`) would cut off every other member, so it is
  never done; the review page says which other projects the group reaches, since those go too;
- a service account: `service_account_delete`, with its keys;
- a person's key: `project_key_delete`; a service account's key: OpenAI deletes it only with
  its service account, so `service_account_delete` (the page says so before anyone decides).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from orgadmin.client import OrgAPIError
from orgadmin.models import ActionLog, GroupMember, ProjectApiKey, ProjectUser, ServiceAccount
from orgadmin.reviews.models import Campaign, Item
from orgadmin.services import directory as directory_services
from orgadmin.services import projects as project_services
from orgadmin.services.changes import ChangeRefused

# A claim older than this is taken to be a worker that died mid-way: it may be tried again.
STALE = dt.timedelta(minutes=10)
RETRYABLE = (Item.Revocation.PENDING, Item.Revocation.FAILED)


@dataclass
class RevokeOutcome:
    done: list[Item] = field(default_factory=list)
    gone: list[Item] = field(default_factory=list)
    failed: list[Item] = field(default_factory=list)


def _claim(item_id: int) -> Item | None:
    """Mark the item running, if it is a revocation still to do (or a stale claim)."""
    now = timezone.now()
    claimable = Q(revocation__in=RETRYABLE) | Q(
        revocation=Item.Revocation.RUNNING, attempted_at__lt=now - STALE
    )
    with transaction.atomic():
        claimed = Item.objects.filter(
            claimable, pk=item_id, decision=Item.Decision.REVOKE, campaign__closed_at__isnull=True
        ).update(revocation=Item.Revocation.RUNNING, attempted_at=now)
    if not claimed:
        return None
    return Item.objects.select_related("campaign__org").get(pk=item_id)


def _service_account(item: Item, org: Any, account_id: str) -> Callable[[Any], Any] | None:
    account = ServiceAccount.objects.filter(
        project__org=org, project__openai_id=item.project_id, openai_id=account_id
    ).select_related("project")
    found = account.first()
    if found is None:
        return None
    return lambda actor: project_services.service_account_delete(
        org=org, project=found.project, account=found, actor=actor
    )


def _call(item: Item) -> tuple[str, str, Callable[[Any], Any] | None]:
    """(the action-log action, its resource id, the call), the call None when the directory
    cache has nothing left to revoke."""
    org = item.campaign.org
    if item.kind == "user" and item.target_id:
        member = GroupMember.objects.filter(
            group__org=org, group__openai_id=item.target_id, user_openai_id=item.subject_id
        ).select_related("group")
        found = member.first()
        call = found and (
            lambda actor: directory_services.group_user_remove(
                org=org, group=found.group, user_id=item.subject_id, actor=actor
            )
        )
        return "group.user.remove", item.target_id, call or None
    if item.kind == "user":
        membership = ProjectUser.objects.filter(
            project__org=org, project__openai_id=item.project_id, user_openai_id=item.subject_id
        ).select_related("project")
        found_user = membership.first()
        call = found_user and (
            lambda actor: project_services.project_user_remove(
                org=org, project=found_user.project, membership=found_user, actor=actor
            )
        )
        return "project.user.remove", item.project_id, call or None
    if item.kind == "service_account" or item.target_id:
        account_id = item.target_id or item.subject_id
        return "service_account.delete", account_id, _service_account(item, org, account_id)
    key = ProjectApiKey.objects.filter(org=org, openai_id=item.subject_id).first()
    call = key and (
        lambda actor: project_services.project_key_delete(org=org, key=key, actor=actor)
    )
    return "api_key.delete", item.subject_id, call or None


def _request_id(org: Any, action: str, resource_id: str, after: int) -> str:
    """OpenAI's request id of the change just made: `api_change` keeps it on its action-log
    line (the services return nothing to read it from)."""
    line = (
        ActionLog.objects.filter(
            org=org, action=action, resource_id=resource_id, pk__gt=after, outcome="ok"
        )
        .order_by("-pk")
        .first()
    )
    return line.request_id if line else ""


def _finish(item: Item, state: str, actor: Any, **fields: Any) -> Item:
    fields = {"revocation": state, "attempts": item.attempts + 1, **fields}
    if state in (Item.Revocation.DONE, Item.Revocation.GONE):
        fields |= {"revoked_at": timezone.now(), "revoke_error": ""}
        fields["revoked_by_name"] = actor.get_username() if actor is not None else "system"
    Item.objects.filter(pk=item.pk).update(**fields)
    item.refresh_from_db()
    return item


def revocation_carry_out(*, item_id: int, actor: Any) -> Item | None:
    """Carry out one revocation; the item with its outcome, or None when it isn't one to do
    now (kept meanwhile, done already, running elsewhere, the campaign closed)."""
    item = _claim(item_id)
    if item is None:
        return None
    action, resource_id, call = _call(item)
    if call is None:
        return _finish(item, Item.Revocation.GONE, actor, request_id="")
    before = ActionLog.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        call(actor)
    except OrgAPIError as exc:
        return _finish(
            item,
            Item.Revocation.FAILED,
            actor,
            request_id=exc.request_id or "",
            revoke_error=str(exc)[:2000],
        )
    except ChangeRefused as exc:
        return _finish(item, Item.Revocation.FAILED, actor, request_id="", revoke_error=exc.message)
    request_id = _request_id(item.campaign.org, action, resource_id, before)
    return _finish(item, Item.Revocation.DONE, actor, request_id=request_id)


def revocations_carry_out(
    *, campaign: Campaign, actor: Any, item_ids: list[int] | None = None
) -> RevokeOutcome:
    """Carry out the campaign's revocations still to do (or those of `item_ids`), one by one."""
    todo = Item.objects.filter(
        campaign=campaign, decision=Item.Decision.REVOKE, revocation__in=RETRYABLE
    )
    if item_ids is not None:
        todo = todo.filter(pk__in=item_ids)
    outcome = RevokeOutcome()
    for item_id in list(todo.values_list("pk", flat=True)):
        item = revocation_carry_out(item_id=item_id, actor=actor)
        if item is None:
            continue
        bucket = {Item.Revocation.DONE: outcome.done, Item.Revocation.GONE: outcome.gone}
        bucket.get(item.revocation, outcome.failed).append(item)
    return outcome
