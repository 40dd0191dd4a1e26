"""Counting the stored audit log for the explorer: the total, the facets beside each filter and
the per-day counts of the chart.

They come from AuditEventCount, the per-block counts the sync keeps, whenever the filters are
ones it knows (dates, types, actor, project): a year of events then costs a few thousand summed
cells instead of a scan of every event. Free text, resource ids and actor ids need the events
themselves: their own indexes (the resources', the actor ids', SQLite's trigram index or the
narrow search index) give the matching ids, at most SAMPLE_LIMIT of them, newest first, and
everything is counted from those. A search too common for the trigram index but narrowed by a
rare project, actor or type reads that filter's few events by id rather than scan the search
index of the whole range.

Each facet counts under every filter except its own, so the numbers beside a filter say what
choosing another value would give.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import OperationalError, connection
from django.db.models import CharField, QuerySet, Sum
from django.db.models.functions import Cast

from orgadmin.models import AuditEvent, AuditEventCount, AuditEventResource, Organization
from orgadmin.selectors.audit import (
    AuditFacets,
    AuditFilters,
    facet_filters,
    filtered_events,
    id_set,
    text_match,
    types_of,
)

ALL = AuditEventCount.ALL
# Actor keys of the cells that count several actors at once (and of actor-less events).
NOT_AN_ACTOR = (ALL, AuditEventCount.BY_CATEGORY, "")
TOP_ACTORS = 12
# How many matches of a free-text or resource filter are counted. Beyond it, the explorer says
# "more than" and counts the newest ones: the work per request stays bounded.
SAMPLE_LIMIT = 5_000
# The SQLite full-text index of the search text (see migration 0002_audit_log), and how many of
# its candidates a search reads before a scan of the search index is quicker.
TEXT_INDEX = "orgadmin_auditevent_fts"
TEXT_CANDIDATES = 10_000


def _newest(qs: QuerySet, id_column: str, limit: int) -> list[tuple[dt.datetime, int]]:
    return list(qs.order_by("-effective_at").values_list("effective_at", id_column)[:limit])


def _candidates(org: Organization, f: AuditFilters, limit: int) -> tuple[list[int] | None, bool]:
    """The newest `limit` ids a resource or actor-id filter allows, each read from its own
    index (None without such a filter), and whether that is all of them. SQLite, left to plan
    these, walks the whole timeline."""
    sets = []
    window = {"org": org, "effective_at__gte": f.start_at, "effective_at__lt": f.end_at}
    if f.resource:
        touched = AuditEventResource.objects.filter(resource_id=f.resource, **window)
        sets.append(_newest(touched, "event_id", limit))
    if f.actor_by_id:
        by_id = AuditEvent.objects.filter(actor_id=f.actor, **window)
        by_key = AuditEvent.objects.filter(api_key_id=f.actor, **window)
        both = {*_newest(by_id, "id", limit), *_newest(by_key, "id", limit)}
        sets.append(sorted(both, reverse=True))
    if not sets:
        return None, True
    complete = all(len(found) < limit for found in sets)
    ids = {i for _, i in sets[0]}
    for other in sets[1:]:
        ids &= {i for _, i in other}
    return [i for _, i in sets[0] if i in ids][:limit], complete


# An event as the facets count it: (id, effective_at as the database's text, day, type,
# category, project_id, actor_key). The time as text sorts, and makes no datetime for each row.
Row = tuple[int, str, int, str, str, str, str]


def _search_ids(
    org: Organization,
    f: AuditFilters,
    limit: int,
    *,
    facets: bool,
    matches: list[Row] | None = None,
) -> tuple[list[int], bool, list[Row] | None]:
    """Ids of the events whose text matches (and, with facets=True, every other filter),
    newest days first, whether that is all of them, and those events when they were read. When
    there are more than `limit`, the oldest day read is left out (it would be counted in part),
    unless it is the only one. `matches`: every match, when the text index had them."""
    rows = None
    if matches is not None:
        rows = [m for m in matches if _obeys_facet_filters(f, m)] if facets else matches
    elif facets and (narrowest := _facet_index_ids(org, f)) is not None:
        # A search too common for the text index, narrowed by a rarer filter: that filter's few
        # events are read by id instead of scanning the whole range's search index.
        rows = _matching_by_id(org, f, narrowest, facets=True)
    if rows is not None:
        found = sorted(((day, i) for i, _, day, *_ in rows), reverse=True)
    else:
        # Days newest first, in the search index: a common word stops after `limit` matches.
        qs = AuditEvent.objects.filter(
            text_match(f), org=org, day__gte=f.start_day, day__lt=f.end_day
        )
        qs = facet_filters(qs, f) if facets else qs
        found = list(qs.order_by("-day").values_list("day", "id")[:limit])
    if len(found) < limit:
        return [i for _, i in found], True, rows
    found = found[:limit]
    whole_days = [(day, i) for day, i in found if day != found[-1][0]]
    return [i for _, i in (whole_days or found)], False, rows


def _obeys_facet_filters(f: AuditFilters, row: Row) -> bool:
    """facet_filters, for a row already read."""
    _, _, _, event_type, category, project_id, actor_key = row
    return (
        f.type_matches(event_type, category)
        and (not f.actor or f.actor_by_id or actor_key == f.actor)
        and (not f.project or project_id == f.project)
    )


def _matching_by_id(org: Organization, f: AuditFilters, ids: list[int], *, facets: bool) -> list:
    """Of `ids`, the events of the range whose text matches (and, with facets=True, the facet
    filters), as Rows in no order."""
    # By id alone, the organization and the dates checked here: given those in SQL, SQLite
    # would rather scan the search index than look the ids up.
    by_id = AuditEvent.objects.filter(text_match(f), id__in=id_set(ids))
    by_id = facet_filters(by_id, f) if facets else by_id
    by_id = by_id.annotate(at=Cast("effective_at", CharField())).values_list(
        "org_id", "id", "at", "day", "type", "category", "project_id", "actor_key"
    )
    org_id, start_day, end_day = org.pk, f.start_day, f.end_day
    return [
        row[1:] for row in by_id.order_by() if row[0] == org_id and start_day <= row[3] < end_day
    ]


def _text_matches(org: Organization, f: AuditFilters) -> list[Row] | None:
    """Every event of the range whose text matches, found through the text index, or None
    when it cannot narrow the search (the search index is scanned then). Read once for both
    of _facets_from_events' passes and for the counting."""
    candidates = _text_index_candidates(f.text_terms)
    return None if candidates is None else _matching_by_id(org, f, candidates, facets=False)


# Up to how many events of one filter a search reads by id (several µs each on SQLite) rather
# than scan the range's search index (a fraction of a µs an event, but all the range's events).
FACET_INDEX_LIMIT = 15_000


def _facet_index_ids(org: Organization, f: AuditFilters) -> list[int] | None:
    """The ids of the range's events of the project, the actor or the types filtered on, from
    that filter's own index, when one of them has at most FACET_INDEX_LIMIT; else None.
    SQLite only: PostgreSQL combines its trigram and b-tree indexes itself."""
    if connection.vendor != "sqlite":
        return None
    window = AuditEvent.objects.filter(
        org=org, effective_at__gte=f.start_at, effective_at__lt=f.end_at
    ).order_by()
    narrowing = []
    if f.project:
        narrowing.append(window.filter(project_id=f.project))
    if f.actor and not f.actor_by_id:
        narrowing.append(window.filter(actor_key=f.actor))
    if f.narrows_types:
        narrowing.append(window.filter(type__in=types_of(org, f)))
    for qs in narrowing:
        ids = list(qs.values_list("id", flat=True)[: FACET_INDEX_LIMIT + 1])
        if len(ids) <= FACET_INDEX_LIMIT:
            return ids
    return None


def _text_index_candidates(terms: tuple[str, ...]) -> list[int] | None:
    """Ids whose text holds every trigram of one of `terms` (every match, and rarely a few
    more), from SQLite's FTS5 index: a rare word is found without reading every event. None
    without that index, for a term under 3 letters, or past TEXT_CANDIDATES ids (then a scan
    is quicker)."""
    if not terms or min(len(t) for t in terms) < 3 or connection.vendor != "sqlite":
        return None
    match = " OR ".join(
        "(" + " AND ".join('"' + t.replace('"', '""') + '"' for t in _rare_trigrams(q)) + ")"
        for q in terms
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {TEXT_INDEX} WHERE {TEXT_INDEX} MATCH %s LIMIT %s",  # noqa: S608
                [match, TEXT_CANDIDATES + 1],
            )
            ids = [row[0] for row in cursor.fetchall()]
    except OperationalError:
        return None  # an SQLite older than 3.34 has no trigram index (see the migration)
    return ids if len(ids) <= TEXT_CANDIDATES else None


def _rare_trigrams(q: str, most: int = 4) -> list[str]:
    """A few trigrams of `q` likely to be rare: those with digits and signs before letters
    (every email shares "acm", few share "042"), spread along `q` ("203.0.113." is told apart
    by its end). The full text is checked afterwards anyway."""
    trigrams = list(dict.fromkeys(q[i : i + 3] for i in range(len(q) - 2)))
    plain = set("abcdefghijklmnopqrstuvwxyz ")

    def score(trigram: str) -> int:
        return sum(ch not in plain for ch in trigram)

    chosen: list[str] = []
    for level in sorted({score(t) for t in trigrams}, reverse=True):
        group = [t for t in trigrams if score(t) == level]
        room = most - len(chosen)
        if len(group) > room:
            step = (len(group) - 1) / max(room - 1, 1)
            group = [group[round(i * step)] for i in range(room)]
        chosen += group
        if len(chosen) >= most:
            break
    return chosen


def day_blocks(start_day: int, end_day: int) -> list[tuple[int, int]]:
    """The fewest aligned blocks (level, first day) that tile [start_day, end_day)."""
    blocks = []
    day = start_day
    while day < end_day:
        level = 0
        while (
            level < AuditEventCount.TOP_LEVEL
            and day % (2 << level) == 0
            and day + (2 << level) <= end_day
        ):
            level += 1
        blocks.append((level, day))
        day += 1 << level
    return blocks


def _tiles(org: Organization, f: AuditFilters, **where) -> list[QuerySet]:
    """The count cells tiling the date range, one queryset per level, with `where` inside each
    so that each is one range of an index."""
    by_level: dict[int, list[int]] = {}
    for level, block in day_blocks(f.start_day, f.end_day):
        by_level.setdefault(level, []).append(block)
    return [
        AuditEventCount.objects.filter(org=org, level=level, block__in=blocks, **where)
        for level, blocks in by_level.items()
    ]


def _summed(tiles: list[QuerySet], *columns: str) -> list[tuple]:
    """The cells' counts summed by `columns`, the tiles read as one UNION ALL: each part is
    then a scan of an index alone on PostgreSQL, where an OR of them goes through the table
    (a bitmap scan), a page read per cell."""
    if not tiles:
        return []
    parts, params = [], []
    for qs in tiles:
        sql, part_params = qs.order_by().values_list(*columns, "n").query.sql_with_params()
        parts.append(sql)
        params.extend(part_params)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    union = " UNION ALL ".join(parts)
    sql = f"SELECT {names}, SUM(n) FROM ({union}) tiles GROUP BY {names}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the counts ------------------------------------------------------------------------


def audit_facets(*, org: Organization, f: AuditFilters) -> AuditFacets:
    """The total, the facet counts and the per-day counts for these filters (1-4 queries)."""
    if not f.q and not f.resource and not f.actor_by_id:
        return _facets_from_counts(org, f)
    return _facets_from_events(org, f)


def _facets_from_counts(org: Organization, f: AuditFilters) -> AuditFacets:
    facets = AuditFacets()
    actor = f.actor or ALL
    # Per type and project, for the chosen actor (or all): the total, the type facet and the
    # project facet at once.
    cells = [tile.exclude(type=ALL) for tile in _tiles(org, f, actor_key=actor)]
    for event_type, category, project_id, n in _summed(cells, "type", "category", "project_id"):
        in_type = f.type_matches(event_type, category)
        in_project = not f.project or project_id == f.project
        if in_project:
            facets.types[event_type] += n
        if in_type:
            facets.projects[project_id] += n
        if in_type and in_project:
            facets.total += n

    if f.narrows_types:
        where = {"type__in": types_of(org, f)}
        if f.project:
            where["project_id"] = f.project
    else:
        # Every type of one actor, in one project or (project "*") in all of them.
        where = {"type": ALL, "project_id": f.project or ALL}
    actors = [tile.exclude(actor_key__in=NOT_AN_ACTOR) for tile in _tiles(org, f, **where)]
    top = sorted(_summed(actors, "actor_key"), key=lambda row: (-row[1], row[0]))
    facets.actors = top[:TOP_ACTORS]
    if f.actor and f.actor not in dict(facets.actors):
        facets.actors.append((f.actor, facets.total))

    days = AuditEventCount.objects.filter(
        org=org, level=0, block__gte=f.start_day, block__lt=f.end_day
    )
    if f.actor or f.types or f.project:
        # Types, not categories: the index holds the type, so only matching cells are read.
        days = days.filter(actor_key=actor).exclude(type=ALL)
        if f.narrows_types:
            days = days.filter(type__in=types_of(org, f))
        if f.project:
            days = days.filter(project_id=f.project)
    else:
        days = days.filter(actor_key=AuditEventCount.BY_CATEGORY)
        if f.categories:
            days = days.filter(type__in=[f"{category}.*" for category in f.categories])
    per_day = days.values_list("block", "category").annotate(n=Sum("n")).order_by()
    facets.days.update({(block, category): n for block, category, n in per_day})
    return facets


def _matching_ids(
    org: Organization, f: AuditFilters, *, facets: bool, matches: list[Row] | None = None
) -> tuple[list[int], bool, list[Row] | None]:
    """The ids of up to SAMPLE_LIMIT + 1 events matching a resource, actor-id or free-text
    filter (and, with facets=True, the facet filters too), whether that is all of them, and
    those events when they were read."""
    limit = SAMPLE_LIMIT + 1
    ids, complete = _candidates(org, f, limit)
    if ids is None:
        return _search_ids(org, f, limit, facets=facets, matches=matches)
    return ids, complete, None


def _sample_rows(
    org: Organization, f: AuditFilters, ids: list[int], *, facets: bool, read: list[Row] | None
) -> list[Row]:
    """The events of `ids` that match, newest first, from those `read` already or else from
    the database."""
    if read is not None:
        wanted = set(ids)
        rows = [row for row in read if row[0] in wanted]
    else:
        # Read by id alone: given the dates or an ORDER BY, SQLite walks the timeline instead.
        by_id = filtered_events(org, f, facets=facets, ids=ids).order_by()
        rows = by_id.annotate(at=Cast("effective_at", CharField())).values_list(
            "id", "at", "day", "type", "category", "project_id", "actor_key"
        )
    return sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)


def _facets_from_events(org: Organization, f: AuditFilters) -> AuditFacets:
    """Count from the matching events themselves.

    First without the facet filters, so each facet counts across its own filter. If that is
    more than SAMPLE_LIMIT events, find them again with every filter: the total stays exact
    whenever the result fits, and the facets then count only what matches everything.
    """
    facets = AuditFacets()
    actor_facet = not f.actor_by_id
    narrowed = f.narrows_types or f.project or (f.actor and actor_facet)
    by_text = f.q and not f.resource and not f.actor_by_id
    matches = _text_matches(org, f) if by_text else None
    ids, complete, read = _matching_ids(org, f, facets=False, matches=matches)
    if not complete and narrowed:
        ids, complete, read = _matching_ids(org, f, facets=True, matches=matches)
        facets.disjunctive = False
    rows = _sample_rows(org, f, ids, facets=not facets.disjunctive, read=read)
    if len(rows) > SAMPLE_LIMIT:
        rows, complete = rows[:SAMPLE_LIMIT], False
    if not complete and rows:
        oldest = AuditEvent.objects.filter(id=rows[-1][0]).values_list("effective_at", flat=True)
        facets.sampled_since = oldest.first()
    elif not complete:
        facets.sampled_since = f.end_at
    actors: Counter = Counter()
    ids = []
    for event_id, _, day, event_type, category, project_id, actor_key in rows:
        in_type = f.type_matches(event_type, category)
        in_project = not f.project or project_id == f.project
        in_actor = not f.actor or not actor_facet or actor_key == f.actor
        if in_project and in_actor:
            facets.types[event_type] += 1
        if in_type and in_actor:
            facets.projects[project_id] += 1
        if in_type and in_project:
            actors[actor_key] += 1
            if in_actor:
                facets.total += 1
                facets.days[(day, category)] += 1
                ids.append(event_id)
    actors.pop("", None)
    facets.actors = sorted(actors.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ACTORS]
    if f.actor and f.actor not in dict(facets.actors):
        facets.actors.append((f.actor, facets.total))
    facets.ids = ids
    return facets
