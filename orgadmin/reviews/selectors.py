"""Reads for access reviews: campaigns and their progress, who may review, each reviewer's
items, and the evidence a closed campaign files. Our tables only, never the API."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet

from orgadmin.access import Perm
from orgadmin.forms.fields import row_id
from orgadmin.models import Organization, Project, ProjectUser, RoleGrant
from orgadmin.reviews.models import Campaign, Item, Reminder, Reviewer

DONE = (Item.Revocation.DONE, Item.Revocation.GONE)


def _progress_counts() -> dict[str, Count]:
    return {
        "total": Count("items", distinct=True),
        "decided": Count("items", filter=~Q(items__decision=""), distinct=True),
        "to_revoke": Count("items", filter=Q(items__decision="revoke"), distinct=True),
        "revoked": Count("items", filter=Q(items__revocation__in=DONE), distinct=True),
        "failed": Count("items", filter=Q(items__revocation="failed"), distinct=True),
    }


def campaigns_of(*, org: Organization) -> list[Campaign]:
    """The connection's campaigns, newest first, each with its counts (one query)."""
    return list(Campaign.objects.filter(org=org).annotate(**_progress_counts()))


def campaign_of(*, org: Organization, campaign_id: int) -> Campaign | None:
    """One campaign of the connection, with its counts; None for another connection's."""
    found = Campaign.objects.filter(org=org, pk=campaign_id).annotate(**_progress_counts())
    return found.select_related("org").first()


def campaign_by_id(*, campaign_id: int) -> Campaign | None:
    found = Campaign.objects.filter(pk=campaign_id).annotate(**_progress_counts())
    return found.select_related("org").first()


def connection_people(*, org: Organization) -> QuerySet:
    """The dashboard's people who hold a role on this connection (or on all), active ones."""
    holders = RoleGrant.objects.filter(Q(org=org) | Q(org__isnull=True)).values("user_id")
    return get_user_model().objects.filter(is_active=True, pk__in=holders).order_by("username")


def active_projects(*, org: Organization) -> list[Project]:
    return list(
        Project.objects.filter(org=org, status=Project.Status.ACTIVE).order_by("name", "openai_id")
    )


def project_owners(*, org: Organization, project_ids: list[str]) -> dict[str, list[Any]]:
    """Project id → the dashboard people who own it at OpenAI (matched by email, holding a role
    on this connection); a project missing from the answer has none (two queries)."""
    owners = ProjectUser.objects.filter(
        project__org=org, project__openai_id__in=project_ids, role="owner"
    ).exclude(email="")
    by_email: dict[str, set[str]] = defaultdict(set)
    for project_id, email in owners.values_list("project__openai_id", "email"):
        by_email[email.casefold()].add(project_id)
    found: dict[str, list[Any]] = defaultdict(list)
    for person in connection_people(org=org).exclude(email=""):
        for project_id in sorted(by_email.get(person.email.casefold(), ())):
            found[project_id].append(person)
    return dict(found)


def reviewer_project_ids(*, campaign: Campaign, user: Any) -> set[str]:
    """The projects `user` reviews in `campaign` (empty: none)."""
    rows = Reviewer.objects.filter(campaign=campaign, user=user)
    return set(rows.values_list("project_id", flat=True))


def may_review(*, campaign: Campaign, user: Any) -> bool:
    """An assigned reviewer of the campaign, or an Admin of its connection."""
    if user.has_perm(Perm.MANAGE, campaign.org):
        return True
    return Reviewer.objects.filter(campaign=campaign, user=user).exists()


def items_for(*, campaign: Campaign, project_ids: set[str] | None) -> list[Item]:
    """The campaign's items, of these projects only unless None (one query)."""
    items = Item.objects.filter(campaign=campaign)
    if project_ids is not None:
        items = items.filter(project_id__in=project_ids)
    return list(items)


def item_of(*, campaign: Campaign, item_id: object) -> Item | None:
    pk = row_id(item_id)
    return None if pk is None else Item.objects.filter(campaign=campaign, pk=pk).first()


@dataclass
class ProjectItems:
    project_id: str
    project_name: str
    items: list[Item] = field(default_factory=list)

    @property
    def undecided(self) -> int:
        return sum(1 for i in self.items if not i.decision)


def by_project(items: list[Item]) -> list[ProjectItems]:
    """Items grouped by project, in the items' order."""
    groups: dict[str, ProjectItems] = {}
    for item in items:
        group = groups.setdefault(item.project_id, ProjectItems(item.project_id, item.project_name))
        group.items.append(item)
    return list(groups.values())


@dataclass(frozen=True)
class ReviewerProgress:
    user_id: int | None
    name: str
    email: str
    projects: list[str]
    sources: list[str]
    total: int
    decided: int
    last_reminded: Any = None

    @property
    def done(self) -> bool:
        return self.decided == self.total


def reviewer_progress(*, campaign: Campaign) -> list[ReviewerProgress]:
    """Each reviewer's projects and how many of their items are decided (three queries)."""
    counts: dict[str, tuple[int, int]] = {}
    rows = Item.objects.filter(campaign=campaign).values("project_id")
    for row in rows.annotate(total=Count("id"), decided=Count("id", filter=~Q(decision=""))):
        counts[row["project_id"]] = (row["total"], row["decided"])
    reminded = dict(
        Reminder.objects.filter(campaign=campaign)
        .values("user_id")
        .annotate(last=Max("sent_at"))
        .values_list("user_id", "last")
    )
    people: dict[Any, dict[str, Any]] = {}
    for r in Reviewer.objects.filter(campaign=campaign):
        who = people.setdefault(
            r.user_id or f"gone-{r.name}",
            {"name": r.name, "email": r.email, "projects": [], "sources": set(), "ids": set()},
        )
        who["projects"].append(r.project_name or r.project_id)
        who["sources"].add(r.get_source_display())
        who["ids"].add(r.project_id)
    return [
        ReviewerProgress(
            user_id=key if isinstance(key, int) else None,
            name=who["name"],
            email=who["email"],
            projects=who["projects"],
            sources=sorted(who["sources"]),
            total=sum(counts.get(p, (0, 0))[0] for p in who["ids"]),
            decided=sum(counts.get(p, (0, 0))[1] for p in who["ids"]),
            last_reminded=reminded.get(key),
        )
        for key, who in sorted(people.items(), key=lambda kv: kv[1]["name"].casefold())
    ]


def revocations_of(*, campaign: Campaign) -> list[Item]:
    """Every revoke decision with its outcome (one query)."""
    return list(Item.objects.filter(campaign=campaign, decision=Item.Decision.REVOKE))


def exceptions_of(*, campaign: Campaign) -> list[Item]:
    """What the close left undone: items nobody decided, revocations not carried out."""
    return list(Item.objects.filter(campaign=campaign).exclude(exception=""))


def reminders_of(*, campaign: Campaign) -> list[Reminder]:
    return list(Reminder.objects.filter(campaign=campaign).select_related("user"))
