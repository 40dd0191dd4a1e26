"""The auditor's security summary on the Overview: the selector's counts made into sentences and
links into the audit log, each filtered to what it counts (the audit log's own URL filters)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from orgadmin import selectors
from orgadmin.audit import describe
from orgadmin.models import AuditEvent, Organization
from orgadmin.selectors.security import SecuritySummary, security_summary


def _log_url(today: dt.date, days: int, **filters: Any) -> str:
    """The audit log over the last `days` UTC days (its presets' range) with `filters`."""
    start = today - dt.timedelta(days=days - 1)
    query = {"start": start.isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()}
    pairs = [*query.items(), *((k, v) for k, vs in filters.items() for v in vs)]
    return reverse("orgadmin:audit_log") + "?" + urlencode(pairs)


def _event(event: AuditEvent, names: dict[str, str], today: dt.date) -> dict[str, Any]:
    return {
        "sentence": describe(event.raw, names=names).sentence.text(),
        "at": event.effective_at,
        "url": _log_url(today, 30, event=[event.event_id]),
    }


def security_context(*, org: Organization, now: dt.datetime) -> dict[str, Any]:
    """`security` for templates/orgadmin/_security_summary.html."""
    summary: SecuritySummary = security_summary(org=org, now=now)
    today = summary.today
    ids = {i for e in summary.events for i in (e.actor_id, e.api_key_id, e.project_id)}
    ids |= {e.resource_id for e in summary.events} | {k.key_id for k in summary.admin_keys}
    names = selectors.audit_names(org=org, ids=ids)
    sections = [
        {
            "key": s.section.key,
            "label": s.section.label,
            "last_7": s.last_7,
            "last_30": s.last_30,
            "url_7": _log_url(today, 7, type=s.section.types),
            "url_30": _log_url(today, 30, type=s.section.types),
            "latest": [_event(e, names, today) for e in s.latest],
        }
        for s in summary.sections
    ]
    keys = [
        {
            "label": names.get(k.key_id) or k.key_id or "an unknown key",
            "id": k.key_id,
            "last_7": k.last_7,
            "last_30": k.last_30,
            "url_7": _log_url(today, 7, actor=[k.key_id]),
            "url_30": _log_url(today, 30, actor=[k.key_id]),
        }
        for k in summary.admin_keys
    ]
    return {
        "security": {
            "sections": sections,
            "admin": {
                "last_7": summary.admin_7,
                "last_30": summary.admin_30,
                "keys": keys,
                "latest": [_event(e, names, today) for e in summary.admin_latest],
            },
        }
    }
