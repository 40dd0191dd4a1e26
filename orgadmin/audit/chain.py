"""The audit log's hash chain, public: `chain_head(*, org)` and `chain_verify(*, org)`.

Each stored event's row keeps its place in its organization's log (`chain_seq`) and a SHA-256 of
its content and of the previous event's link (`chain_hash`); the head row (`AuditChainHead`)
keeps the count and the last link. The rules are `orgadmin.audit.links` (pure, no Django); the
reads are `orgadmin.selectors.audit_chain`; the sync links events as it stores them
(`orgadmin.sync.audit_chain`). `manage.py verify_audit_log` prints `chain_verify`'s verdict; the
audit exports and the access reviews' evidence carry `chain_head`.
"""

from __future__ import annotations

from orgadmin.audit.links import GENESIS, BadLink, ChainHead, Verdict
from orgadmin.selectors.audit_chain import chain_head, chain_verify

__all__ = ["GENESIS", "BadLink", "ChainHead", "Verdict", "chain_head", "chain_verify"]
