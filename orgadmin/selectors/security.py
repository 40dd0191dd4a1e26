"""The auditor's security summary: recent key, member, role and certificate changes, sign-in
failures and admin-key activity, each counted over the last 7 and 30 UTC days with its latest
few events. Four queries however big the log is (the counts, the latest of each kind, the admin
keys' counts, the admin keys' latest); the days are the audit log's, so a count and the
filtered audit log it links to agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber

from orgadmin.models import AuditEvent, Organization

LATEST = 3
TOP_KEYS = 5
ADMIN_KEY = "admin_key"


@dataclass(frozen=True)
class Section:
    """One kind of security event: which events, and the audit log's type filter for them."""

    key: str
    label: str
    types: tuple[str, ...]  # the audit log's `type` values: "api_key.*" or "login.failed"

    def q(self) -> Q:
        q = Q()
        for value in self.types:
            if value.endswith(".*"):
                q |= Q(category=value[:-2])
            else:
                q |= Q(type=value)
        return q


SECTIONS: tuple[Section, ...] = (
    Section("keys", "API key changes", ("api_key.*",)),
    Section("members", "Member and invite changes", ("user.*", "invite.*")),
    Section("roles", "Role changes", ("role.*",)),
    Section("certificates", "Certificate changes", ("certificate.*",)),
    Section("sign_in_failures", "Sign-in failures", ("login.failed",)),
)


@dataclass
class SecurityCounts:
    section: Section
    last_7: int = 0
    last_30: int = 0
    latest: list[AuditEvent] = field(default_factory=list)


@dataclass
class AdminKeyCounts:
    key_id: str
    last_7: int
    last_30: int


@dataclass
class SecuritySummary:
    today: dt.date  # UTC
    sections: list[SecurityCounts]
    admin_7: int = 0
    admin_30: int = 0
    admin_keys: list[AdminKeyCounts] = field(default_factory=list)
    admin_latest: list[AuditEvent] = field(default_factory=list)

    @property
    def events(self) -> list[AuditEvent]:
        return [e for s in self.sections for e in s.latest] + self.admin_latest


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def security_summary(*, org: Organization, now: dt.datetime) -> SecuritySummary:
    """What an auditor looks at first, from the stored audit log (never the API)."""
    today = now.astimezone(dt.UTC).date()
    since_30 = _midnight(today - dt.timedelta(days=29))
    since_7 = Q(effective_at__gte=_midnight(today - dt.timedelta(days=6)))
    window = AuditEvent.objects.filter(org=org, effective_at__gte=since_30).order_by()
    by_api_key = Q(actor_type="api_key")
    any_section = Q()
    for s in SECTIONS:
        any_section |= s.q()
    counts = window.filter(any_section | by_api_key).aggregate(
        **{f"{s.key}_30": Count("pk", filter=s.q()) for s in SECTIONS},
        **{f"{s.key}_7": Count("pk", filter=s.q() & since_7) for s in SECTIONS},
        admin_30=Count("pk", filter=by_api_key),
        admin_7=Count("pk", filter=by_api_key & since_7),
    )
    summary = SecuritySummary(
        today=today,
        sections=[
            SecurityCounts(s, last_7=counts[f"{s.key}_7"], last_30=counts[f"{s.key}_30"])
            for s in SECTIONS
        ],
        admin_7=counts["admin_7"],
        admin_30=counts["admin_30"],
    )
    _latest_of_each(summary, window, any_section)
    if summary.admin_30:
        keys = (
            window.filter(by_api_key)
            .values("api_key_id")
            .annotate(last_30=Count("pk"), last_7=Count("pk", filter=since_7))
            .order_by("-last_30", "api_key_id")[:TOP_KEYS]
        )
        summary.admin_keys = [
            AdminKeyCounts(k["api_key_id"], k["last_7"], k["last_30"]) for k in keys
        ]
        summary.admin_latest = list(
            window.filter(by_api_key).order_by("-effective_at", "-id")[:LATEST]
        )
    return summary


def _latest_of_each(summary: SecuritySummary, window, any_section: Q) -> None:
    """The newest LATEST events of every section, in one query (a row number per section)."""
    if not any(s.last_30 for s in summary.sections):
        return
    section = Case(*(When(s.q(), then=Value(s.key)) for s in SECTIONS), default=Value(""))
    ranked = (
        window.filter(any_section)
        .annotate(
            section=section,
            rank=Window(
                RowNumber(),
                partition_by=[section],
                order_by=[F("effective_at").desc(), F("id").desc()],
            ),
        )
        .filter(rank__lte=LATEST)
    )
    by_key = {s.section.key: s for s in summary.sections}
    for event in sorted(ranked, key=lambda e: (e.effective_at, e.pk), reverse=True):
        by_key[event.section].latest.append(event)
