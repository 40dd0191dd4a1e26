"""Reading an organization's audit chain: its head, and a verification of every link.

The rules (what a link covers, how it is computed, what each finding means) are
orgadmin.audit.links'; this module only reads the rows, in sequence order, a chunk at a time.
Public through orgadmin.audit.chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orgadmin.audit.links import GENESIS, ROW_FIELDS, ChainHead, Verdict, failure, verify
from orgadmin.models import AuditChainHead, AuditEvent, Organization

CHUNK = 2000  # rows per fetch while streaming a chain: constant memory whatever its length


def chain_head(*, org: Organization) -> ChainHead | None:
    """Where the organization's chain ends (count, last link, when it moved); None before its
    first stored event. One query."""
    row = AuditChainHead.objects.filter(org=org, count__gt=0).first()
    return ChainHead(count=row.count, head=row.head, at=row.updated_at) if row else None


def _stored_head(org: Organization) -> ChainHead | None:
    row = AuditChainHead.objects.filter(org=org).first()
    return ChainHead(count=row.count, head=row.head, at=row.updated_at) if row else None


def _linked(org: Organization) -> Iterator[dict[str, Any]]:
    rows = (
        AuditEvent.objects.filter(org=org, chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list(*ROW_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for values in rows:
        yield dict(zip(ROW_FIELDS, values, strict=True))


def chain_verify(*, org: Organization) -> Verdict:
    """Prove that nothing in the organization's stored audit log was altered, inserted or
    removed since it was linked; else name the first bad link and what is wrong with it."""
    unlinked = (
        AuditEvent.objects.filter(org=org, chain_seq__isnull=True)
        .order_by("id")
        .values(*ROW_FIELDS)
        .first()
    )
    if unlinked is not None:
        return failure(0, GENESIS, "inserted", "an event was inserted (it has no link)", unlinked)
    return verify(_linked(org), stored=_stored_head(org))
