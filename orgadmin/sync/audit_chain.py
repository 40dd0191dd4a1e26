"""Appending to an organization's audit chain (orgadmin.audit.links) as events are stored.

The writer locks the organization's head row first (select_for_update: a PostgreSQL row lock; on
SQLite the IMMEDIATE transaction already holds the database's write lock), then decides which
events are new, links them after the head and moves the head, all in its transaction. A second
writer waits for the lock and then sees the first one's events as stored: they are skipped, not
linked twice, and the chain never forks.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from orgadmin.audit.links import GENESIS, link
from orgadmin.models import AuditChainHead, AuditEvent, Organization


def chain_lock(*, org: Organization) -> AuditChainHead:
    """The organization's head row, locked until the transaction ends (made the first time)."""
    head = AuditChainHead.objects.select_for_update().filter(org=org).first()
    if head is None:
        # Two first writers may race here: the loser's insert is ignored, and it waits below.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(org=org, count=0, head=GENESIS)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(org=org)
    return head


def chain_link(*, head: AuditChainHead, events: Sequence[AuditEvent]) -> None:
    """Give these events (about to be inserted, in this order) the next places and links after
    the locked `head`, and move the head past them."""
    if not events:
        return
    seq, previous = head.count, head.head
    for event in events:
        seq += 1
        # The model's own attributes are the values the row will hold (plain fields only).
        previous = link(previous, seq, vars(event))
        event.chain_seq, event.chain_hash = seq, previous
    head.count, head.head, head.updated_at = seq, previous, timezone.now()
    head.save(update_fields=["count", "head", "updated_at"])
