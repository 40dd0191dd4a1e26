"""The organization's audit log, synced from the API: every event with its raw JSON, the columns
the explorer filters on, the ids each event touches, and pre-aggregated counts for the facets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from orgadmin.models.core import Organization


class AuditEvent(models.Model):
    """One audit log event, exactly as the API returned it, plus indexed columns."""

    # No index of its own on org: every index below starts with it.
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events", db_index=False
    )
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=120)
    category = models.CharField(max_length=60)
    effective_at = models.DateTimeField()
    day = models.IntegerField(help_text="Days since 1970-01-01 (UTC) of effective_at")
    actor_type = models.CharField(max_length=20, blank=True)
    actor_id = models.CharField(max_length=200, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    # The actor's one name for filters and facets: the email, else the service account, else the
    # API key (see orgadmin.audit.actor_fields).
    actor_key = models.CharField(max_length=254, blank=True)
    api_key_id = models.CharField(max_length=200, blank=True)
    ip_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    project_id = models.CharField(max_length=200, blank=True)
    project_name = models.CharField(max_length=200, blank=True)
    resource_id = models.CharField(max_length=200, blank=True, help_text="The payload's own id")
    # Lower-cased words of the event (ids, emails, names, payload values) for the free-text filter.
    search_text = models.TextField(blank=True)
    raw = models.JSONField(help_text="The event as the API returned it")
    synced_at = models.DateTimeField(default=timezone.now)
    # The hash chain (orgadmin.audit.links): the event's place in its organization's log, in the
    # order stored, and its link: a SHA-256 of its content and of the previous event's link.
    # Null only for a row nobody linked (one inserted behind the sync's back), and nullable so
    # that adding the columns is instant (SQLite copies a table for a NOT NULL column).
    chain_seq = models.BigIntegerField(null=True, blank=True)
    chain_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (see above)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "event_id"], name="audit_event_unique_id"),
            # One event per place: two writers can't fork the chain. Also verify_audit_log's
            # index: it reads an organization's events in this order.
            models.UniqueConstraint(fields=["org", "chain_seq"], name="audit_event_chain_seq"),
        ]
        indexes = [
            # The timeline, newest first. It holds every column the filters and the counts read,
            # so a page, even a deep one, never touches the wide rows.
            models.Index(
                fields=[
                    "org",
                    "-effective_at",
                    "-id",
                    "type",
                    "category",
                    "actor_key",
                    "project_id",
                    "day",
                ],
                name="audit_event_timeline",
            ),
            # What a free-text filter scans, days newest first, with the other filters' columns
            # so that nothing else is read (where no trigram index narrows it first).
            models.Index(
                fields=["org", "day", "search_text", "type", "category", "actor_key", "project_id"],
                name="audit_event_search",
            ),
            models.Index(fields=["org", "type", "-effective_at"], name="audit_event_type"),
            models.Index(fields=["org", "actor_key", "-effective_at"], name="audit_event_actor"),
            models.Index(fields=["org", "actor_id", "-effective_at"], name="audit_event_actor_id"),
            models.Index(fields=["org", "api_key_id", "-effective_at"], name="audit_event_api_key"),
            models.Index(fields=["org", "project_id", "-effective_at"], name="audit_event_project"),
            # A resource's own history, for the "before" of a diff.
            models.Index(
                fields=["org", "resource_id", "-effective_at"], name="audit_event_resource"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class AuditChainHead(models.Model):
    """Where an organization's audit chain ends: how many events it links and the last link.
    Moved in the transaction that stores the events, with this row locked (select_for_update),
    so concurrent writers append one after the other; removing the last events shows here."""

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    count = models.BigIntegerField(default=0)
    head = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.count} events, head {self.head}"


class AuditEventResource(models.Model):
    """One id an event touches (its target, and ids inside its payload), for the resource filter
    and for a resource's history."""

    event = models.ForeignKey(
        AuditEvent, on_delete=models.CASCADE, related_name="resources", db_index=False
    )
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    resource_id = models.CharField(max_length=200)
    effective_at = models.DateTimeField(help_text="The event's, so a resource's newest come first")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "resource_id"], name="audit_resource_unique_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["org", "resource_id", "-effective_at", "event"],
                name="audit_resource_lookup",
            ),
        ]

    def __str__(self) -> str:
        return self.resource_id


class AuditEventCount(models.Model):
    """How many events of one type, actor and project fall in a block of days.

    A block spans 2**level days and starts at a multiple of 2**level (days since 1970-01-01), so
    any range of whole days is the sum of at most two blocks per level: a year reads a few dozen
    blocks instead of every event. Each event is counted four times per level: under its type,
    actor and project; under its type and project for every actor (`actor_key` "*"); and under
    its actor for every type (`type` "*"), in its project and in all projects (`project_id` "*"),
    which is what the actor facet reads. Days (level 0) also count each category for everyone
    (`type` "api_key.*", `actor_key` "*category"): all an unfiltered chart reads.
    The sync keeps the counts in step with the events, in the same transaction.
    """

    ALL = "*"
    BY_CATEGORY = "*category"
    TOP_LEVEL = 9  # blocks of up to 512 days

    # No index of its own on org: both indexes below start with it.
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    level = models.PositiveSmallIntegerField()
    block = models.IntegerField(help_text="First day of the block, in days since 1970-01-01")
    type = models.CharField(max_length=120)
    category = models.CharField(max_length=60)
    actor_key = models.CharField(max_length=254)
    project_id = models.CharField(max_length=200)
    n = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Also the index of the actor facet: the cells of one block and type are adjacent.
            models.UniqueConstraint(
                fields=["org", "level", "block", "type", "actor_key", "project_id"],
                name="audit_count_unique_cell",
            )
        ]
        indexes = [
            # One actor's (or every actor's) cells, block after block: totals and the chart; the
            # type and project let a filtered chart skip the other cells inside the index. Not a
            # covering index on purpose: SQLite would then prefer it for the actor facet too,
            # scanning every cell of the organization instead of seeking the unique one.
            # On PostgreSQL both indexes do carry the counts (INCLUDE, migration 0004).
            models.Index(
                fields=["org", "actor_key", "level", "block", "type", "project_id"],
                name="audit_count_actor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} × {self.n} (level {self.level}, day {self.block})"


class AuditName(models.Model):
    """The latest name the audit log gave an id (a project's title, a user's email, a group's
    name), so pages can say "Project X" even for things deleted since."""

    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_id = models.CharField(max_length=200)
    name = models.CharField(max_length=254)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "object_id"], name="audit_name_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.object_id} = {self.name}"
