"""The audit log: event builders, storage and the list endpoint's filtering."""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from orgadmin.simulator.errors import invalid

# The spec's `AuditLogEventType`, in its order.
EVENT_TYPES: tuple[str, ...] = (
    "api_key.created",
    "api_key.updated",
    "api_key.deleted",
    "certificate.created",
    "certificate.updated",
    "certificate.deleted",
    "certificates.activated",
    "certificates.deactivated",
    "checkpoint.permission.created",
    "checkpoint.permission.deleted",
    "external_key.registered",
    "external_key.removed",
    "group.created",
    "group.updated",
    "group.deleted",
    "invite.sent",
    "invite.accepted",
    "invite.deleted",
    "ip_allowlist.created",
    "ip_allowlist.updated",
    "ip_allowlist.deleted",
    "ip_allowlist.config.activated",
    "ip_allowlist.config.deactivated",
    "login.succeeded",
    "login.failed",
    "logout.succeeded",
    "logout.failed",
    "organization.updated",
    "project.created",
    "project.updated",
    "project.archived",
    "project.deleted",
    "rate_limit.updated",
    "rate_limit.deleted",
    "resource.deleted",
    "tunnel.created",
    "tunnel.updated",
    "tunnel.deleted",
    "workload_identity_provider.created",
    "workload_identity_provider.updated",
    "workload_identity_provider.deleted",
    "workload_identity_provider_mapping.created",
    "workload_identity_provider_mapping.updated",
    "workload_identity_provider_mapping.deleted",
    "role.created",
    "role.updated",
    "role.deleted",
    "role.assignment.created",
    "role.assignment.deleted",
    "role.bound_to_resource",
    "role.unbound_from_resource",
    "scim.enabled",
    "scim.disabled",
    "service_account.created",
    "service_account.updated",
    "service_account.deleted",
    "user.added",
    "user.updated",
    "user.deleted",
    "tenant.metadata.updated",
    "tenant.microsoft_entra_mapping.upserted",
    "tenant.microsoft_entra_mapping.deleted",
    "tenant.workload_identity.provider.created",
    "tenant.workload_identity.provider.updated",
    "tenant.workload_identity.provider.archived",
    "tenant.workload_identity.mapping.created",
    "tenant.workload_identity.mapping.updated",
    "tenant.workload_identity.mapping.archived",
    "tenant.workload_identity.binding.created",
    "tenant.workload_identity.principal.provisioned",
    "tenant.workload_identity.access_token.issued",
    "tenant.admin_api_key.created",
    "tenant.admin_api_key.updated",
    "tenant.admin_api_key.deleted",
    "tenant.project_api_key.created",
    "tenant.chatgpt_access_token.revoked",
    "tenant.migration.completed",
    "tenant.sso.migrated",
    "tenant.domains.migrated",
    "tenant.sso_connection.created",
    "tenant.sso_connection.updated",
    "tenant.sso_connection.deleted",
    "tenant.sso_connection.setup.started",
    "tenant.policy.created",
    "tenant.policy.updated",
    "tenant.policy.deleted",
    "tenant.policy.attached",
    "tenant.policy.detached",
    "tenant.principal_authentication_policy.resolved",
    "tenant.scim.setup.started",
    "tenant.scim.deletion.requested",
    "tenant.scim.directory.created",
    "tenant.product_access_policy.updated",
    "tenant.resource_share_grant.created",
    "tenant.resource_share_grant.updated",
    "tenant.resource_share_grant.accepted",
    "tenant.resource_share_grant.declined",
    "tenant.resource_share_grant.revoked",
    "tenant.resource_share_grant.deleted",
    "tenant.service_account.updated",
    "tenant.service_account.deleted",
    "tenant.service_account.token.revoked",
    "tenant.billing.overage_limit.updated",
    "tenant.billing.alerts.updated",
    "tenant.billing.info.updated",
    "tenant.usage_limit.workspace.updated",
    "tenant.usage_limit.group.updated",
    "tenant.usage_limit.user.updated",
    "tenant.usage_limit.increase_request.updated",
    "tenant.usage_limit.increase_request.resolved",
    "tenant.group.created",
    "tenant.group.updated",
    "tenant.group.deleted",
    "tenant.group.member.added",
    "tenant.group.member.removed",
    "tenant.migration_rollout.status.updated",
    "tenant.migration_rollout.tier.updated",
    "tenant.role.metadata.updated",
    "tenant.custom_role.created",
    "tenant.custom_role.updated",
    "tenant.custom_role.deleted",
    "tenant.role_assignment.created",
    "tenant.role_assignment.deleted",
    "tenant.resource_role_assignment.created",
    "tenant.resource_role_assignment.deleted",
    "tenant.resource_access.updated",
    "tenant.resource_access.deleted",
    "tenant.ads_account.onboarding.redemption",
    "tenant.session_policy.created",
    "tenant.session_policy.updated",
    "tenant.session_policy.deleted",
    "tenant.session_revocation.started",
    "tenant.third_party_app_policy.updated",
    "tenant.user.added",
    "tenant.user.updated",
    "tenant.user.removed",
    "tenant.user.looked_up",
    "tenant.user.invited",
    "tenant.membership.revoked",
    "tenant.api_organization_invite.upserted",
    "tenant.api_organization_invite.deleted",
    "tenant.chatgpt_workspace_invite.upserted",
    "tenant.membership.accepted",
    "tenant.membership.declined",
    "tenant.workspace_invite_email_settings.updated",
)
TENANT_SCOPED = frozenset(
    [t for t in EVENT_TYPES if t.startswith("tenant.")]
    + ["role.bound_to_resource", "role.unbound_from_resource"]
)
# Types for which the spec defines no payload object: their events carry none.
NO_PAYLOAD = frozenset(
    [t for t in EVENT_TYPES if t.startswith(("tenant.", "tunnel."))] + ["resource.deleted"]
)

# Live-API shapes (`Quirks.live_audit_shapes`): the share of events listed without their
# `project`, and of events (of a type with a payload) listed without their payload key.
LIVE_NO_PROJECT = 0.12
LIVE_NO_PAYLOAD = 0.06
# Where a session's IP address is, as the live API's `ip_address_details` says: country, city,
# region, region_code, asn, latitude, longitude (every value a string, as captured).
LOCATIONS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("US", "San Francisco", "California", "CA", "7922", "37.77490", "-122.41940"),
    ("US", "New York", "New York", "NY", "701", "40.71280", "-74.00600"),
    ("US", "Austin", "Texas", "TX", "7018", "30.26720", "-97.74310"),
    ("CA", "Toronto", "Ontario", "ON", "812", "43.65320", "-79.38320"),
    ("GB", "London", "England", "ENG", "2856", "51.50740", "-0.12780"),
    ("DE", "Berlin", "Berlin", "BE", "3320", "52.52000", "13.40500"),
    ("FR", "Paris", "Île-de-France", "IDF", "12322", "48.85660", "2.35220"),
    ("IN", "Bengaluru", "Karnataka", "KA", "24560", "12.97160", "77.59460"),
    ("JP", "Tokyo", "Tokyo", "13", "2516", "35.67620", "139.65030"),
)


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in person (session) or an API key."""

    kind: str  # "session" | "api_key"
    user_id: str | None
    email: str | None
    key_id: str | None = None  # the key's tracking id
    service_account_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None

    def api(self) -> dict[str, Any]:
        """The `actor` object of an audit event."""
        user = {"id": self.user_id, "email": self.email}
        if self.kind == "session":
            session: dict[str, Any] = {"user": user, "ip_address": self.ip_address}
            if self.user_agent:
                session["user_agent"] = self.user_agent  # as the spec's examples show
            return {"type": "session", "session": session}
        api_key: dict[str, Any] = {"id": self.key_id}
        if self.service_account_id:
            api_key.update(type="service_account", service_account={"id": self.service_account_id})
        else:
            api_key.update(type="user", user=user)
        return {"type": "api_key", "api_key": api_key}

    def ids(self) -> frozenset[str]:
        """The ids that `actor_ids[]` matches: user, service account and key tracking id."""
        return frozenset(i for i in (self.user_id, self.key_id, self.service_account_id) if i)


@dataclass
class Event:
    """One stored audit event and what the filters look at."""

    seq: int
    data: dict[str, Any]
    actor_ids: frozenset[str]
    actor_email: str | None
    resource_ids: frozenset[str]
    project_id: str | None

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.data["effective_at"], self.seq)

    @property
    def live_lacks_project(self) -> bool:
        """Whether the live shape of this event leaves its `project` out (seeded by its id)."""
        return "project" in self.data and _share("project", self.data["id"]) < LIVE_NO_PROJECT

    def live(self) -> dict[str, Any]:
        """The event as the live API shows it (`Quirks.live_audit_shapes`); the stored object is
        not changed, so the switch can be turned off again mid-run."""
        data = self.data
        event_type = data["type"]
        shaped: dict[str, Any] = {"object": "organization.audit_log", **data}
        if self.live_lacks_project:
            del shaped["project"]
        if event_type in shaped and _share("payload", data["id"]) < LIVE_NO_PAYLOAD:
            del shaped[event_type]
        session = (data.get("actor") or {}).get("session")
        if session is not None:
            shaped["actor"] = {**data["actor"], "session": _live_session(session)}
        return shaped


def audit_id(rng_token: str, effective_at: int) -> str:
    """An id shaped like the spec's `audit_log-xxx_yyyymmdd`."""
    day = dt.datetime.fromtimestamp(effective_at, dt.UTC).strftime("%Y%m%d")
    return f"audit_log-{rng_token}_{day}"


class AuditLog:
    """Events kept oldest first; the API lists them newest first."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._keys: list[tuple[int, int]] = []  # the events' sort keys, for bisecting
        self._by_id: dict[str, Event] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._events)

    def add(
        self,
        *,
        event_id: str,
        type: str,
        effective_at: int,
        actor: Actor | None,
        payload: dict[str, Any] | None = None,
        project: dict[str, str] | None = None,
        resource_ids: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Record an event; returns its API object."""
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown audit event type {type!r}")
        data: dict[str, Any] = {"id": event_id, "type": type, "effective_at": effective_at}
        if project is not None:
            data["project"] = project
        data["actor"] = actor.api() if actor is not None else None
        if type not in NO_PAYLOAD:
            data[type] = payload or {}
        resources = set(resource_ids)
        if payload and isinstance(payload.get("id"), str):
            resources.add(payload["id"])
        self._seq += 1
        event = Event(
            seq=self._seq,
            data=data,
            actor_ids=actor.ids() if actor else frozenset(),
            actor_email=actor.email if actor else None,
            resource_ids=frozenset(resources),
            project_id=project["id"] if project else None,
        )
        key = event.sort_key
        if not self._keys or self._keys[-1] <= key:
            self._events.append(event)  # the usual case: history is loaded in order
            self._keys.append(key)
        else:
            at = bisect_right(self._keys, key)
            self._events.insert(at, event)
            self._keys.insert(at, key)
        self._by_id[event_id] = event
        return data

    def forget(self, drop: Callable[[Event], bool]) -> int:
        """Remove the events `drop` picks (a scenario shaping its history); how many went."""
        kept = [e for e in self._events if not drop(e)]
        gone = len(self._events) - len(kept)
        self._events = kept
        self._keys = [e.sort_key for e in kept]
        self._by_id = {e.data["id"]: e for e in kept}
        return gone

    def ids(self, *, include_tenant: bool = True) -> list[str]:
        """Every event id, newest first."""
        return [
            e.data["id"]
            for e in reversed(self._events)
            if include_tenant or e.data["type"] not in TENANT_SCOPED
        ]

    def events(self, *, live: bool = False) -> list[dict[str, Any]]:
        """Every event's API object, newest first; `live` gives the live API's shapes."""
        return [e.live() if live else e.data for e in reversed(self._events)]

    def query(self, q: dict[str, Any], *, live: bool = False) -> tuple[list[dict[str, Any]], bool]:
        """One page of the list endpoint for parsed query `q`; `live` lists the live API's
        shapes (`Quirks.live_audit_shapes`), and an event listed without its project then
        doesn't match `project_ids[]` either."""
        tenant_only = bool(q["tenant_only"])
        types = set(q["event_types"] or ())
        _check_event_types(types, tenant_only=tenant_only)
        bounds = q["effective_at"] or {}
        projects = set(q["project_ids"] or ())
        actors = set(q["actor_ids"] or ())
        emails = {e.lower() for e in q["actor_emails"] or ()}
        resources = set(q["resource_ids"] or ())

        def wanted(e: Event) -> bool:
            return (
                (e.data["type"] in TENANT_SCOPED) == tenant_only
                and (not types or e.data["type"] in types)
                and _in_bounds(e.data["effective_at"], bounds)
                and (
                    not projects
                    or (e.project_id in projects and not (live and e.live_lacks_project))
                )
                and (not actors or bool(actors & e.actor_ids))
                and (not emails or (e.actor_email or "").lower() in emails)
                and (not resources or bool(resources & e.resource_ids))
            )

        def shape(e: Event) -> dict[str, Any]:
            return e.live() if live else e.data

        limit, after, before = q["limit"], q["after"], q["before"]
        if after is not None and before is not None:
            raise invalid("before", "Only one of 'after' and 'before' can be given.")
        keys = self._keys
        found: list[Event] = []
        if before is not None:
            # The `limit` matching events just newer than the cursor, listed newest first.
            start = bisect_right(keys, self._cursor(before, "before"))
            for e in self._events[start:]:
                if wanted(e):
                    found.append(e)
                    if len(found) > limit:
                        break
            page = found[:limit]
            return [shape(e) for e in reversed(page)], len(found) > limit
        stop = len(self._events)
        if after is not None:
            stop = bisect_left(keys, self._cursor(after, "after"))
        for index in range(stop - 1, -1, -1):
            e = self._events[index]
            if wanted(e):
                found.append(e)
                if len(found) > limit:
                    break
        return [shape(e) for e in found[:limit]], len(found) > limit

    def _cursor(self, event_id: str, param: str) -> tuple[int, int]:
        event = self._by_id.get(event_id)
        if event is None:
            raise invalid(param, f"Invalid '{param}' cursor: no event with id '{event_id}'.")
        return event.sort_key


def _check_event_types(types: set[str], *, tenant_only: bool) -> None:
    """Tenant-scoped types are listed with `tenant_only=true` only, and the others without."""
    for t in types:
        if tenant_only and t not in TENANT_SCOPED:
            raise invalid(
                "event_types[]",
                f"Event type '{t}' is not tenant-scoped; with 'tenant_only=true' every "
                "event type must be tenant-scoped.",
            )
        if not tenant_only and t in TENANT_SCOPED:
            raise invalid(
                "tenant_only",
                f"Event type '{t}' is tenant-scoped and requires 'tenant_only=true'.",
            )


def _in_bounds(value: int, bounds: dict[str, int]) -> bool:
    return (
        ("gt" not in bounds or value > bounds["gt"])
        and ("gte" not in bounds or value >= bounds["gte"])
        and ("lt" not in bounds or value < bounds["lt"])
        and ("lte" not in bounds or value <= bounds["lte"])
    )


def _share(kind: str, event_id: str) -> float:
    """A number in [0, 1) fixed by the event's id (itself drawn from the scenario's seed)."""
    digest = hashlib.blake2b(f"{kind}:{event_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def _live_session(session: dict[str, Any]) -> dict[str, Any]:
    """A session actor with the live API's TLS fingerprints and IP location: the same browser
    has the same fingerprints, the same address the same place."""
    shaped = dict(session)
    agent = str(session.get("user_agent") or "")
    tls = hashlib.blake2b(f"tls:{agent}".encode(), digest_size=32).hexdigest()
    shaped["ja3"] = tls[:32]  # an MD5-sized hex digest
    ciphers, extensions = 15 + int(tls[32], 16) % 4, 12 + int(tls[33], 16) % 6
    shaped["ja4"] = f"t13d{ciphers:02d}{extensions:02d}h2_{tls[34:46]}_{tls[46:58]}"
    ip = session.get("ip_address")
    if ip:
        at = hashlib.blake2b(f"ip:{ip}".encode(), digest_size=8).digest()
        country, city, region, code, asn, lat, lon = LOCATIONS[int.from_bytes(at) % len(LOCATIONS)]
        shaped["ip_address_details"] = {
            "country": country,
            "city": city,
            "region": region,
            "region_code": code,
            "asn": asn,
            "latitude": lat,
            "longitude": lon,
        }
    return shaped
