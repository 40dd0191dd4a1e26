"""The hygiene rules: plain facts about an organization in, findings out. No Django inside.

A selector (`orgadmin.hygiene.selectors.hygiene_facts`) reads the directory cache, the audit
log's sign-ins and the 30-day spend into `Facts`; `findings(facts, thresholds)` says what is
wrong, each finding with its severity, its evidence (plain JSON values) and its fix. The service
stores them (`orgadmin.hygiene.services.hygiene_refresh`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Group(StrEnum):
    KEYS = "Keys"
    MEMBERS = "Members"
    CERTIFICATES = "Certificates"
    PROJECTS = "Projects"


class Kind(StrEnum):
    KEY_UNUSED = "key_unused"
    KEY_NEVER_USED = "key_never_used"
    KEY_OWNER_GONE = "key_owner_gone"
    KEY_SPENDING = "key_spending"
    ADMIN_KEY_NO_EXPIRY = "admin_key_no_expiry"
    ADMIN_KEY_OLD = "admin_key_old"
    ADMIN_KEY_UNUSED = "admin_key_unused"
    OWNERS_EXCESS = "owners_excess"
    MEMBER_DORMANT = "member_dormant"
    INVITE_STALE = "invite_stale"
    PROJECT_NO_OWNER = "project_no_owner"
    CERT_EXPIRING = "cert_expiring"
    CERT_EXPIRED_ACTIVE = "cert_expired_active"
    PROJECT_SPEND_UNGUARDED = "project_spend_unguarded"


# What each kind is called on the page, and its group.
KINDS: dict[Kind, tuple[str, Group]] = {
    Kind.KEY_UNUSED: ("Key unused", Group.KEYS),
    Kind.KEY_NEVER_USED: ("Key never used", Group.KEYS),
    Kind.KEY_OWNER_GONE: ("Key owner no longer a member", Group.KEYS),
    Kind.KEY_SPENDING: ("Flagged key still spending", Group.KEYS),
    Kind.ADMIN_KEY_NO_EXPIRY: ("Admin key never expires", Group.KEYS),
    Kind.ADMIN_KEY_OLD: ("Admin key is old", Group.KEYS),
    Kind.ADMIN_KEY_UNUSED: ("Admin key unused", Group.KEYS),
    Kind.OWNERS_EXCESS: ("Too many owners", Group.MEMBERS),
    Kind.MEMBER_DORMANT: ("Member not signed in", Group.MEMBERS),
    Kind.INVITE_STALE: ("Old pending invite", Group.MEMBERS),
    Kind.PROJECT_NO_OWNER: ("Project without an owner", Group.MEMBERS),
    Kind.CERT_EXPIRING: ("Certificate expiring", Group.CERTIFICATES),
    Kind.CERT_EXPIRED_ACTIVE: ("Expired certificate still active", Group.CERTIFICATES),
    Kind.PROJECT_SPEND_UNGUARDED: ("Spend without a limit or alert", Group.PROJECTS),
}
KEY_KINDS = frozenset(k for k, (_, g) in KINDS.items() if g == Group.KEYS)


@dataclass(frozen=True)
class Thresholds:
    """The numbers the rules compare against; an organization's own are `HygieneSettings`."""

    key_unused_days: int = 90
    key_grace_days: int = 14  # a key younger than this isn't "never used" yet
    admin_key_max_age_days: int = 180
    admin_key_unused_days: int = 30
    max_owners: int = 4
    member_dormant_days: int = 90
    invite_pending_days: int = 3
    certificate_warning_days: int = 30


@dataclass(frozen=True)
class KeyFact:
    """A project key (a person's or a service account's)."""

    key_id: str
    name: str
    redacted: str
    project_id: str
    project_name: str
    owner_type: str  # "user" | "service_account"
    owner_id: str
    owner_label: str
    owner_is_member: bool  # the owner is still in the project (a person) or exists (an account)
    created_at: dt.datetime | None
    last_used_at: dt.datetime | None
    spend: Decimal = Decimal(0)  # the last 30 days


@dataclass(frozen=True)
class AdminKeyFact:
    key_id: str
    name: str
    redacted: str
    owner_label: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    dashboard_key: bool  # may be the key this dashboard itself uses


@dataclass(frozen=True)
class MemberFact:
    user_id: str
    email: str
    label: str
    role: str
    added_at: dt.datetime | None
    last_sign_in: dt.datetime | None  # in the synced audit log


@dataclass(frozen=True)
class InviteFact:
    invite_id: str
    email: str
    role: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class ProjectFact:
    project_id: str
    name: str
    owners: int  # people with the owner role in the project
    members: int
    service_account_owners: int
    has_limit: bool
    alerts: int
    spend: Decimal = Decimal(0)  # the last 30 days


@dataclass(frozen=True)
class CertificateFact:
    cert_id: str
    name: str
    expires_at: dt.datetime | None
    active_org: bool
    active_projects: tuple[str, ...]  # names of the projects it is active in

    @property
    def active(self) -> bool:
        return self.active_org or bool(self.active_projects)


@dataclass(frozen=True)
class Facts:
    now: dt.datetime
    currency: str = "usd"
    keys: list[KeyFact] = field(default_factory=list)
    admin_keys: list[AdminKeyFact] = field(default_factory=list)
    members: list[MemberFact] = field(default_factory=list)
    invites: list[InviteFact] = field(default_factory=list)
    projects: list[ProjectFact] = field(default_factory=list)
    certificates: list[CertificateFact] = field(default_factory=list)
    audit_since: dt.datetime | None = None  # the oldest synced audit event; None: none synced
    spend_known: bool = True  # False: no usage synced (or no dashboard app): spend unknown


@dataclass(frozen=True)
class Found:
    kind: Kind
    subject: str
    severity: Severity
    title: str
    evidence: dict[str, str | int | bool | None]
    fix: str

    @property
    def group(self) -> Group:
        return KINDS[self.kind][1]


def money(amount: Decimal, currency: str) -> str:
    """As the pages write money (orgadmin.templatetags.directory.money): "$1,234.57" (cents,
    rounded half up), "1,234.57 EUR", "<$0.01" for less than a cent."""
    symbol = "$" if currency.lower() == "usd" else ""
    suffix = "" if symbol else f" {currency.upper()}"
    if amount and abs(amount) < Decimal("0.01"):
        return f"<{symbol}0.01{suffix}"
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{'-' if cents < 0 else ''}{symbol}{abs(cents):,.2f}{suffix}"


def _day(at: dt.datetime | None) -> str | None:
    return at.date().isoformat() if at else None


def _days(now: dt.datetime, at: dt.datetime) -> int:
    return max(0, (now - at).days)


def findings(facts: Facts, t: Thresholds) -> list[Found]:
    """Every finding for these facts, ordered by group, severity and subject."""
    found = [
        *_key_findings(facts, t),
        *_admin_key_findings(facts, t),
        *_member_findings(facts, t),
        *_invite_findings(facts, t),
        *_project_findings(facts, t),
        *_certificate_findings(facts, t),
    ]
    order = list(Severity)
    groups = list(Group)
    return sorted(found, key=lambda f: (groups.index(f.group), order.index(f.severity), f.subject))


def _key_evidence(k: KeyFact, facts: Facts) -> dict[str, str | int | bool | None]:
    return {
        "key": f"{k.name or k.key_id} ({k.redacted})" if k.redacted else k.name or k.key_id,
        "key_id": k.key_id,
        "project": k.project_name,
        "project_id": k.project_id,
        "owner": k.owner_label,
        "owner_type": k.owner_type,
        "created": _day(k.created_at),
        "last_used": _day(k.last_used_at),
        "spend_30d": money(k.spend, facts.currency) if facts.spend_known else None,
        "in_use": bool(k.spend > 0),
    }


def _key_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    now = facts.now
    for k in facts.keys:
        ev = _key_evidence(k, facts)
        flagged: list[str] = []
        young = k.created_at is not None and _days(now, k.created_at) < t.key_grace_days
        if k.last_used_at is None and not young:
            flagged.append(Kind.KEY_NEVER_USED)
            age = (
                f" in the {_days(now, k.created_at)} days since it was made" if k.created_at else ""
            )
            yield Found(
                Kind.KEY_NEVER_USED, k.key_id, Severity.LOW,
                f"“{k.name or k.key_id}” in {k.project_name} was never used{age}",
                ev, "Revoke it if nobody needs it.",
            )  # fmt: skip
        elif k.last_used_at is not None and _days(now, k.last_used_at) >= t.key_unused_days:
            flagged.append(Kind.KEY_UNUSED)
            yield Found(
                Kind.KEY_UNUSED, k.key_id, Severity.MEDIUM,
                f"“{k.name or k.key_id}” in {k.project_name} unused for "
                f"{_days(now, k.last_used_at)} days",
                ev | {"threshold_days": t.key_unused_days},
                "Revoke it: a key nobody uses can only leak.",
            )  # fmt: skip
        if not k.owner_is_member:
            flagged.append(Kind.KEY_OWNER_GONE)
            what = "service account" if k.owner_type == "service_account" else "owner"
            yield Found(
                Kind.KEY_OWNER_GONE, k.key_id, Severity.HIGH,
                f"The {what} of “{k.name or k.key_id}” ({k.owner_label}) is no longer in "
                f"{k.project_name}",
                ev, "Revoke it, or replace it with a key of a service account someone owns.",
            )  # fmt: skip
        if flagged and k.spend > 0:
            spent = money(k.spend, facts.currency)
            yield Found(
                Kind.KEY_SPENDING, k.key_id, Severity.INFO,
                f"“{k.name or k.key_id}” is in use — spent {spent} in the last 30 days",
                ev | {"also": ", ".join(KINDS[Kind(f)][0] for f in flagged)},
                "Find who runs it before revoking: revoking it stops whatever spends through it.",
            )  # fmt: skip


def _admin_key_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    now = facts.now
    for k in facts.admin_keys:
        ev: dict[str, str | int | bool | None] = {
            "key": f"{k.name or k.key_id} ({k.redacted})" if k.redacted else k.name or k.key_id,
            "key_id": k.key_id,
            "owner": k.owner_label,
            "created": _day(k.created_at),
            "expires": _day(k.expires_at),
            "last_used": _day(k.last_used_at),
            "dashboard_key": k.dashboard_key,
        }
        ours = " This may be this dashboard's own key: replace it on Connections first."
        fix_tail = ours if k.dashboard_key else ""
        if k.expires_at is None:
            yield Found(
                Kind.ADMIN_KEY_NO_EXPIRY, k.key_id, Severity.MEDIUM,
                f"Admin key “{k.name or k.key_id}” never expires",
                ev, "Replace it with a key that expires." + fix_tail,
            )  # fmt: skip
        if k.created_at is not None and _days(now, k.created_at) >= t.admin_key_max_age_days:
            yield Found(
                Kind.ADMIN_KEY_OLD, k.key_id, Severity.MEDIUM,
                f"Admin key “{k.name or k.key_id}” is {_days(now, k.created_at)} days old",
                ev | {"threshold_days": t.admin_key_max_age_days},
                "Rotate it: make a new key, move its users over, revoke this one." + fix_tail,
            )  # fmt: skip
        young = k.created_at is not None and _days(now, k.created_at) < t.key_grace_days
        last = k.last_used_at
        if (last is None and not young) or (last and _days(now, last) >= t.admin_key_unused_days):
            how = f"unused for {_days(now, last)} days" if last else "never used"
            yield Found(
                Kind.ADMIN_KEY_UNUSED, k.key_id, Severity.HIGH,
                f"Admin key “{k.name or k.key_id}” {how}",
                ev | {"threshold_days": t.admin_key_unused_days},
                "Revoke it: an idle key that can manage the whole organization." + fix_tail,
            )  # fmt: skip


def _member_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    owners = sorted(m.email or m.label for m in facts.members if m.role == "owner")
    if len(owners) > t.max_owners:
        yield Found(
            Kind.OWNERS_EXCESS, "organization", Severity.MEDIUM,
            f"{len(owners)} organization owners (at most {t.max_owners} wanted)",
            {"owners": ", ".join(owners), "count": len(owners), "threshold": t.max_owners},
            "Make the ones who don't need to manage the organization readers.",
        )  # fmt: skip
    if facts.audit_since is None:
        return  # no sign-in history synced: nothing is known, and nothing is claimed
    for m in facts.members:
        yield from _dormant(m, facts, t)


def _dormant(m: MemberFact, facts: Facts, t: Thresholds) -> Iterator[Found]:
    now, since = facts.now, facts.audit_since
    assert since is not None
    if m.added_at is not None and _days(now, m.added_at) < t.member_dormant_days:
        return
    ev: dict[str, str | int | bool | None] = {
        "member": m.email or m.label,
        "role": m.role,
        "added": _day(m.added_at),
        "threshold_days": t.member_dormant_days,
        "audit_log_since": _day(since),
    }
    if m.last_sign_in is not None:
        if _days(now, m.last_sign_in) < t.member_dormant_days:
            return
        title = f"{m.email or m.label} last signed in {_days(now, m.last_sign_in)} days ago"
        ev["last_sign_in"] = _day(m.last_sign_in)
    else:
        ev["last_sign_in"] = None
        title = f"{m.email or m.label}: no sign-in seen since {_day(since)}"
        if _days(now, since) < t.member_dormant_days:
            # The synced audit log doesn't reach back N days: say so rather than claim it.
            title += " (the audit log synced here starts then; older sign-ins aren't known)"
    yield Found(
        Kind.MEMBER_DORMANT, m.user_id, Severity.LOW, title, ev,
        "Remove them from the organization if they no longer need it.",
    )  # fmt: skip


def _invite_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    for i in facts.invites:
        if i.created_at is None or _days(facts.now, i.created_at) < t.invite_pending_days:
            continue
        yield Found(
            Kind.INVITE_STALE, i.invite_id, Severity.LOW,
            f"The invite of {i.email} has waited {_days(facts.now, i.created_at)} days",
            {
                "email": i.email, "role": i.role, "sent": _day(i.created_at),
                "expires": _day(i.expires_at), "threshold_days": t.invite_pending_days,
            },
            "Revoke it, or ask them to accept it.",
        )  # fmt: skip


def _project_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    for p in facts.projects:
        if p.owners == 0:
            yield Found(
                Kind.PROJECT_NO_OWNER, p.project_id, Severity.MEDIUM,
                f"Nobody owns {p.name}",
                {
                    "project": p.name, "project_id": p.project_id, "members": p.members,
                    "service_account_owners": p.service_account_owners,
                },
                "Make one of its members an owner.",
            )  # fmt: skip
        if facts.spend_known and p.spend > 0 and not p.has_limit and not p.alerts:
            spent = money(p.spend, facts.currency)
            yield Found(
                Kind.PROJECT_SPEND_UNGUARDED, p.project_id, Severity.MEDIUM,
                f"{p.name} spent {spent} in 30 days with no spend limit or alert",
                {"project": p.name, "project_id": p.project_id, "spend_30d": spent},
                "Set a spend limit or a spend alert on the project.",
            )  # fmt: skip


def _certificate_findings(facts: Facts, t: Thresholds) -> Iterator[Found]:
    now = facts.now
    for c in facts.certificates:
        if c.expires_at is None:
            continue
        ev: dict[str, str | int | bool | None] = {
            "certificate": c.name or c.cert_id,
            "expires": _day(c.expires_at),
            "active_org_wide": c.active_org,
            "active_in": ", ".join(c.active_projects) or None,
        }
        if c.expires_at <= now and c.active:
            yield Found(
                Kind.CERT_EXPIRED_ACTIVE, c.cert_id, Severity.HIGH,
                f"“{c.name or c.cert_id}” expired {_days(now, c.expires_at)} days ago and is "
                "still active",
                ev, "Deactivate it, and upload its replacement.",
            )  # fmt: skip
        elif now < c.expires_at <= now + dt.timedelta(days=t.certificate_warning_days):
            left = (c.expires_at - now).days
            yield Found(
                Kind.CERT_EXPIRING, c.cert_id, Severity.MEDIUM if c.active else Severity.LOW,
                f"“{c.name or c.cert_id}” expires in {left} days",
                ev | {"threshold_days": t.certificate_warning_days},
                "Upload its replacement and activate it before then.",
            )  # fmt: skip
