"""Reads of the stored audit log: the explorer's filters, its timeline pages and exports, and the
event drawer's lookups (the event, its resource's history, names).

The explorer's counts (the total, the facets, the chart) are in `audit_counts`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import Min, Q, QuerySet
from django.db.models.expressions import RawSQL

from orgadmin.audit import (
    KNOWN_TYPES,
    PROJECT_BOUND_CATEGORIES,
    PROJECT_SCOPED_CATEGORIES,
    category_of,
    date_of_day,
)
from orgadmin.models import (
    AuditEvent,
    AuditEventCount,
    AuditEventResource,
    AuditName,
    Organization,
)
from orgadmin.selectors.directory import display_names


@dataclass(frozen=True)
class AuditFilters:
    """What the explorer shows: whole UTC days [start, end), and optional narrowing."""

    start: dt.date
    end: dt.date  # exclusive
    types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # whole groups, from `type=api_key.*`
    # The known types of those groups, when the caller has them at hand (else looked up).
    category_types: tuple[str, ...] | None = None
    actor: str = ""
    # When `actor` is one of an actor's ids (a key id, a user or service account id) rather
    # than its name: the names of the actors it belongs to (audit_actors_of_id). It is then a
    # plain filter, not a facet.
    actor_names: tuple[str, ...] = ()
    project: str = ""
    resource: str = ""
    q: str = ""
    # Ids whose known name is the search text (audit_name_ids): a key's name finds the events
    # that name only its id, however long after them the name was learned.
    q_ids: tuple[str, ...] = ()

    @property
    def start_day(self) -> int:
        return (self.start - dt.date(1970, 1, 1)).days

    @property
    def end_day(self) -> int:
        return (self.end - dt.date(1970, 1, 1)).days

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(), tzinfo=dt.UTC)

    @property
    def narrows_types(self) -> bool:
        return bool(self.types or self.categories)

    @property
    def actor_by_id(self) -> bool:
        return bool(self.actor_names)

    @property
    def text_terms(self) -> tuple[str, ...]:
        """What the free-text filter looks for in the search text: the text or any named id."""
        if not self.q:
            return ()
        return tuple(dict.fromkeys((self.q.lower(), *(i.lower() for i in self.q_ids))))

    def type_matches(self, event_type: str, category: str) -> bool:
        if not self.narrows_types:
            return True
        return event_type in self.types or category in self.categories


@dataclass
class AuditFacets:
    """Everything the explorer counts for one set of filters."""

    total: int = 0
    types: Counter = field(default_factory=Counter)  # type → n, under every filter but types
    actors: list[tuple[str, int]] = field(default_factory=list)  # top actors, all but actor
    projects: Counter = field(default_factory=Counter)  # project id → n, all but project
    days: Counter = field(default_factory=Counter)  # (day, category) → n, under every filter
    # Set when a free-text or resource filter matched more than SAMPLE_LIMIT events (see
    # audit_counts): the counts are then those of the newest SAMPLE_LIMIT, which reach back to
    # this moment.
    sampled_since: dt.datetime | None = None
    # False when the facets count only what matches every filter (see audit_counts).
    disjunctive: bool = True
    # The page's rows when the events were read anyway (ids, newest first).
    ids: list[int] | None = None


# --- filtering --------------------------------------------------------------------------


def _type_q(f: AuditFilters) -> Q:
    q = Q()
    if f.types:
        q |= Q(type__in=f.types)
    if f.categories:
        q |= Q(category__in=f.categories)
    return q


def filtered_events(
    org: Organization, f: AuditFilters, *, facets: bool = True, ids: list[int] | None = None
) -> QuerySet:
    """Events matching the filters; with facets=False, without the type, actor-name and
    project filters (the ones the facets count across). Given `ids` that already obey the
    dates, the resource and the actor id, only the other filters are added."""
    if ids is not None:
        qs = AuditEvent.objects.filter(id__in=id_set(ids))
        f = replace(f, resource="", actor="" if f.actor_by_id else f.actor, actor_names=())
    else:
        qs = AuditEvent.objects.filter(
            org=org, effective_at__gte=f.start_at, effective_at__lt=f.end_at
        )
    if facets:
        qs = facet_filters(qs, f)
    if f.actor_by_id:
        qs = qs.filter(Q(actor_id=f.actor) | Q(api_key_id=f.actor))
    if f.resource:
        touched = AuditEventResource.objects.filter(org=org, resource_id=f.resource)
        qs = qs.filter(id__in=touched.values("event_id"))
    if f.q:
        qs = qs.filter(text_match(f))
    return qs


def text_match(f: AuditFilters) -> Q:
    """Events whose search text holds the free text, or an id named so."""
    q = Q()
    for term in f.text_terms:
        q |= Q(search_text__contains=term)
    return q


def id_set(ids: list[int]) -> RawSQL:
    """Thousands of ids as one parameter: given as a list, Django spends longer preparing one
    parameter each than the database takes to find the rows."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def facet_filters(qs: QuerySet, f: AuditFilters) -> QuerySet:
    """The filters the facets count across: types, the actor by name, the project."""
    if f.narrows_types:
        qs = qs.filter(_type_q(f))
    if f.actor and not f.actor_by_id:
        qs = qs.filter(actor_key=f.actor)
    if f.project:
        qs = qs.filter(project_id=f.project)
    return qs


def types_of(org: Organization, f: AuditFilters) -> list[str]:
    """The exact types the type filter selects (a whole category becomes its types)."""
    types = set(f.types)
    if f.categories:
        known = audit_known_types(org=org) if f.category_types is None else f.category_types
        types |= {t for t in known if category_of(t) in f.categories}
    return sorted(types)


# --- the timeline and its exports -----------------------------------------------------------


def audit_event_page(
    *, org: Organization, f: AuditFilters, page: int, per_page: int, facets: AuditFacets
) -> list[AuditEvent]:
    """One page of the timeline, newest first: ids from the index (or from the facets' read of
    the events), then the rows."""
    offset = (page - 1) * per_page
    if facets.ids is not None:
        ids = facets.ids[offset : offset + per_page]
    else:
        # Whole days newer than the page are skipped by their known counts, so a deep page
        # costs one day of index, not every event before it.
        per_day: Counter = Counter()
        for (day, _), n in facets.days.items():
            per_day[day] += n
        before = f.end_at
        for day in sorted(per_day, reverse=True):
            if per_day[day] > offset:
                break
            offset -= per_day[day]
            before = dt.datetime.combine(date_of_day(day), dt.time(), tzinfo=dt.UTC)
        ordered = (
            filtered_events(org, f).filter(effective_at__lt=before).order_by("-effective_at", "-id")
        )
        ids = list(ordered.values_list("id", flat=True)[offset : offset + per_page])
    if not ids:
        return []
    return list(AuditEvent.objects.filter(id__in=ids).order_by("-effective_at", "-id"))


def audit_events_export(*, org: Organization, f: AuditFilters) -> Iterator[AuditEvent]:
    """Every event matching the filters, newest first, fetched in chunks."""
    return filtered_events(org, f).order_by("-effective_at", "-id").iterator(chunk_size=2000)


# --- the event drawer's lookups ------------------------------------------------------------


def audit_event_get(*, org: Organization, event_id: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(org=org, event_id=event_id).first()


def audit_event_history(*, org: Organization, event: AuditEvent, limit: int = 200) -> list:
    """Earlier events about the same resource, oldest first: what it looked like before."""
    if not event.resource_id:
        return []
    if event.category in PROJECT_BOUND_CATEGORIES and not event.project_id:
        return []  # "rl-gpt-4o" in which project? Another project's limit is not its before.
    qs = AuditEvent.objects.filter(
        org=org,
        resource_id=event.resource_id,
        category=event.category,
        effective_at__lt=event.effective_at,
    )
    if event.category in PROJECT_SCOPED_CATEGORIES:
        qs = qs.filter(project_id=event.project_id)
    return list(reversed(qs.order_by("-effective_at", "-id")[:limit]))


def audit_actors_of_id(*, org: Organization, actor: str) -> tuple[str, ...]:
    """When an actor filter names no actor but is a user, account or key id: the names of the
    actors with that id (a key's owner, a user's email); else nothing."""
    if not actor or AuditEvent.objects.filter(org=org, actor_key=actor).exists():
        return ()
    names: list[str] = []
    for column in ("actor_id", "api_key_id"):
        # One name at a time, newest first, each a walk down the id's own index (a DISTINCT
        # would tempt SQLite into reading every event through another index).
        while len(names) < 20:
            found = AuditEvent.objects.filter(org=org, **{column: actor})
            found = found.exclude(actor_key__in=names).order_by("-effective_at")
            name = found.values_list("actor_key", flat=True).first()
            if name is None:
                break
            names.append(name)
    return tuple(sorted(set(names)))


def audit_names(*, org: Organization, ids: Iterable[str]) -> dict[str, str]:
    """Names for ids: the directory's current ones first, else the last the audit log gave."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    # The directory knows current names; the audit log's own fill in for things since deleted.
    names = {k: v for k, v in display_names(org=org, ids=wanted).items() if v}
    missing = wanted - names.keys()
    if missing:
        names.update(
            AuditName.objects.filter(org=org, object_id__in=missing).values_list(
                "object_id", "name"
            )
        )
    return names


# A name typed in full finds its ids; past this many ids with one name, the text alone is used.
NAMED_IDS_LIMIT = 10


def audit_name_ids(*, org: Organization, q: str) -> tuple[str, ...]:
    """The ids whose remembered name is `q` (any case): keys, projects, members, service
    accounts, groups, including those deleted since (AuditName keeps what the directory and the
    audit log knew). One query."""
    if not q:
        return ()
    found = AuditName.objects.filter(org=org, name__iexact=q.strip()).order_by("-seen_at")
    ids = list(found.values_list("object_id", flat=True)[: NAMED_IDS_LIMIT + 1])
    return tuple(sorted(ids)) if len(ids) <= NAMED_IDS_LIMIT else ()


def audit_known_types(*, org: Organization) -> set[str]:
    """Every type the spec lists, and every type this organization's log holds."""
    seen = AuditEventCount.objects.filter(
        org=org, actor_key=AuditEventCount.ALL, level=AuditEventCount.TOP_LEVEL
    ).values_list("type", flat=True)
    return set(KNOWN_TYPES) | set(seen.distinct())


def audit_first_day(*, org: Organization) -> dt.date | None:
    """The UTC date of the oldest stored event."""
    first = AuditEvent.objects.filter(org=org).aggregate(first=Min("effective_at"))["first"]
    return first.astimezone(dt.UTC).date() if first else None
