"""Audit events in words: a sentence a person reads, and the change as a before/after diff.

Pure functions over raw events (dicts as the API returned them), no Django, so the table, the
drawer, the CSV export and the tests all say the same thing. Every type with a payload schema in
the spec has its own sentence; every other type, known or not yet invented, gets a generic one.

A payload says what an update *requested* (`changes_requested`) but not what was there before.
The "before" comes from the resource's own history: the earlier events about the same id, folded
into a state. Where that history doesn't reach back far enough, the diff says "unknown".
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orgadmin.audit_catalog import actor_fields, category_of, payload_of


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()  # a "before" value older than the synced history


@dataclass(frozen=True)
class Ref:
    """A thing a sentence names: kind (user, project, key, …), its id, and what to call it."""

    kind: str
    id: str
    label: str


Part = str | Ref


@dataclass
class Sentence:
    parts: list[Part] = field(default_factory=list)

    def text(self) -> str:
        return "".join(p.label if isinstance(p, Ref) else p for p in self.parts)

    def predicate(self) -> str:
        """The sentence without its subject, for a table that shows the actor on its own:
        "Deleted API key … in Project X"."""
        rest = "".join(p.label if isinstance(p, Ref) else p for p in self.parts[1:])
        rest = rest.removeprefix(":").strip()
        return rest[:1].upper() + rest[1:] if rest else self.text()

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Change:
    """One field of the diff. `before` is None when the thing didn't exist, UNKNOWN when the
    history doesn't say; `after` is None when it no longer exists."""

    field: str
    before: Any
    after: Any

    @property
    def added(self) -> list:
        if isinstance(self.after, list) and isinstance(self.before, list):
            return [v for v in self.after if v not in self.before]
        return []

    @property
    def removed(self) -> list:
        if isinstance(self.after, list) and isinstance(self.before, list):
            return [v for v in self.before if v not in self.after]
        return []


@dataclass
class Description:
    sentence: Sentence
    changes: list[Change]
    refs: list[Ref]  # the things the event is about, for links
    # The type has a payload, but the event came without it (the live API sends such events):
    # what it changed, and on what, is not known.
    payload_missing: bool = False


# --- small helpers -------------------------------------------------------------------------

_WORDS = {
    "api": "API",
    "id": "ID",
    "ip": "IP",
    "sso": "SSO",
    "scim": "SCIM",
    "chatgpt": "ChatGPT",
    "ja3": "JA3",
    "ja4": "JA4",
}
_VERBS = {
    "created": "created",
    "updated": "updated",
    "deleted": "deleted",
    "upserted": "created or updated",
    "archived": "archived",
    "revoked": "revoked",
    "started": "started",
    "completed": "completed",
    "migrated": "migrated",
    "issued": "issued",
    "provisioned": "provisioned",
    "attached": "attached",
    "detached": "detached",
    "resolved": "resolved",
    "requested": "requested",
    "accepted": "accepted",
    "declined": "declined",
    "added": "added",
    "removed": "removed",
    "invited": "invited",
    "looked_up": "looked up",
    "registered": "registered",
    "enabled": "enabled",
    "disabled": "disabled",
    "activated": "activated",
    "deactivated": "deactivated",
    "submitted": "submitted",
    "sent": "sent",
}
_CREATING = {"created", "added", "sent", "registered", "upserted", "provisioned", "issued"}
_REMOVING = {"deleted", "removed", "revoked"}
_STATE_BY_VERB = {
    "created": "active",
    "added": "active",
    "registered": "active",
    "sent": "pending",
    "accepted": "accepted",
    "deleted": "deleted",
    "removed": "deleted",
    "revoked": "revoked",
    "archived": "archived",
    "enabled": "enabled",
    "disabled": "disabled",
}
_DIFFABLE = {*_CREATING, *_REMOVING, *_STATE_BY_VERB, "updated", "enabled", "disabled"}
# Fields that are ids, secrets or too long to be a readable diff.
_NOT_DIFFED = {"id", "certificate", "object"}


def humanize(words: str) -> str:
    """`tenant.sso_connection` → `tenant SSO connection`."""
    out = []
    for word in words.replace(".", " ").replace("_", " ").split():
        out.append(_WORDS.get(word.lower(), word))
    return " ".join(out)


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def format_value(value: Any) -> str:
    """A value as the diff and the sentences show it."""
    if value is UNKNOWN:
        return "unknown"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) or "(empty)"
    text = str(value)
    return text if text else "(empty)"


def rate_limit_model(rate_limit_id: str) -> str:
    """The model a project rate limit is for: `rl-gpt-4o` → `gpt-4o`."""
    for prefix in ("rl-", "rl_"):
        if rate_limit_id.startswith(prefix):
            return rate_limit_id[len(prefix) :]
    return rate_limit_id


def _join(refs: list[Part]) -> list[Part]:
    """[a, b, c] → [a, ", ", b, " and ", c]."""
    out: list[Part] = []
    for i, ref in enumerate(refs):
        if i:
            out.append(" and " if i == len(refs) - 1 else ", ")
        out.append(ref)
    return out


# --- state folding (the "before" of a diff) ----------------------------------------------------


def _fields_of(raw: dict) -> dict[str, Any]:
    """What an event says about its resource's fields."""
    payload = payload_of(raw)
    fields: dict[str, Any] = {}
    for key, value in payload.items():
        if key in ("data", "changes_requested") and isinstance(value, dict):
            fields.update(value)
        elif key not in _NOT_DIFFED and key not in ("data", "changes_requested"):
            fields[key] = value
    return fields


def apply_event(state: dict[str, Any], raw: dict) -> dict[str, Any]:
    """The resource's state after one event about it."""
    state = copy.deepcopy(state)
    verb = str(raw.get("type") or "").rsplit(".", 1)[-1]
    fields = _fields_of(raw)
    added = _list(fields.pop("permissions_added", None))
    removed = _list(fields.pop("permissions_removed", None))
    if added or removed:
        current = state.get("permissions")
        base = list(current) if isinstance(current, list) else []
        state["permissions"] = [p for p in base if p not in removed] + [
            p for p in added if p not in base
        ]
    if verb in _REMOVING:
        state = {key: None for key in state}
    else:
        state.update(fields)
    if verb in _STATE_BY_VERB:
        state["state"] = _STATE_BY_VERB[verb]
    return state


def fold(history: list[dict]) -> dict[str, Any]:
    """The state a resource's earlier events leave it in (oldest first)."""
    state: dict[str, Any] = {}
    for raw in history:
        state = apply_event(state, raw)
    return state


def diff(raw: dict, history: list[dict] | None) -> list[Change]:
    """The event's change, field by field. Without a history (None) befores are unknown; with
    an empty one the resource has no earlier event, so only what its own event says is known."""
    verb = str(raw.get("type") or "").rsplit(".", 1)[-1]
    if not _s(payload_of(raw).get("id")) or verb not in _DIFFABLE:
        return []  # not a change to one resource (a sign-in, a bulk activation, …)
    before = fold(history) if history else {}
    after = apply_event(before, raw)
    ends = verb in _REMOVING or verb == "archived"
    changes = []
    for key, new in after.items():
        if key in _NOT_DIFFED:
            continue
        if key in before:
            old = before[key]
        elif verb in _CREATING:
            old = None
        elif key == "state" and ends and history is not None:
            old = "active"  # it existed, or it couldn't be deleted
        else:
            old = UNKNOWN
        if old is UNKNOWN and new is None:
            continue
        if old is UNKNOWN or old != new:
            changes.append(Change(key, old, new))
    return changes


# --- sentences ------------------------------------------------------------------------------


@dataclass
class _Ctx:
    raw: dict
    payload: dict
    names: dict[str, str]
    changes: list[Change]
    actor: Part
    project: Ref | None
    refs: list[Ref] = field(default_factory=list)

    def ref(self, kind: str, object_id: Any, label: str = "") -> Part:
        object_id = _s(object_id)
        if not object_id:
            return label or "(unknown)"
        ref = Ref(kind, object_id, label or self.names.get(object_id) or object_id)
        if ref not in self.refs:
            self.refs.append(ref)
        return ref

    @property
    def id(self) -> str:
        return _s(self.payload.get("id"))

    @property
    def data(self) -> dict:
        return _d(self.payload.get("data"))

    @property
    def requested(self) -> dict:
        return _d(self.payload.get("changes_requested"))

    def in_project(self, word: str = "in") -> list[Part]:
        return [f" {word} ", self.project] if self.project else []

    def change_list(self, only: tuple[str, ...] = ()) -> list[Part]:
        """`: field before → after, field set to after` from the diff (or the request)."""
        items = []
        for change in self.changes:
            if change.field == "state" or (only and change.field not in only):
                continue
            if change.added or change.removed:
                bits = []
                if change.added:
                    bits.append("added " + format_value(change.added))
                if change.removed:
                    bits.append("removed " + format_value(change.removed))
                items.append(f"{change.field} {'; '.join(bits)}")
            elif change.before is UNKNOWN or change.before is None:
                items.append(f"{change.field} set to {format_value(change.after)}")
            else:
                items.append(
                    f"{change.field} {format_value(change.before)} → {format_value(change.after)}"
                )
        return [": " + ", ".join(items)] if items else []


def _actor(raw: dict, names: dict[str, str], refs: list[Ref]) -> Part:
    who = actor_fields(raw)
    api_key = _d(_d(raw.get("actor")).get("api_key"))
    service_account = _s(_d(api_key.get("service_account")).get("id"))
    if who["actor_email"] or (who["actor_id"] and not service_account):
        ref = Ref(
            "user",
            who["actor_id"],
            who["actor_email"] or names.get(who["actor_id"]) or who["actor_id"],
        )
    elif service_account:
        label = names.get(service_account) or service_account
        ref = Ref("service_account", service_account, f"service account {label}")
    elif who["api_key_id"]:
        ref = Ref(
            "key", who["api_key_id"], f"API key {names.get(who['api_key_id']) or who['api_key_id']}"
        )
    else:
        return "Someone"
    if ref.id:
        refs.append(ref)
    return ref


def _project(raw: dict, names: dict[str, str]) -> Ref | None:
    project = _d(raw.get("project"))
    project_id = _s(project.get("id"))
    if not project_id:
        return None
    return Ref(
        "project", project_id, names.get(project_id) or _s(project.get("name")) or project_id
    )


Describer = Callable[[_Ctx], list[Part]]


def _simple(verb: str, kind: str, noun: str, *, where: str = "in") -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        return [c.actor, f" {verb} {noun} ", c.ref(kind, c.id), *c.in_project(where)]

    return describe


def _api_key_created(c: _Ctx) -> list[Part]:
    scopes = _list(c.data.get("scopes"))
    tail = [f" with scopes {format_value(scopes)}"] if scopes else []
    return [c.actor, " created API key ", c.ref("key", c.id), *c.in_project(), *tail]


def _api_key_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed API key ", c.ref("key", c.id), *c.in_project(), *c.change_list()]


def _certificate(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        label = _s(c.payload.get("name"))
        if verb == "renamed":
            return [c.actor, " renamed certificate ", c.ref("certificate", c.id), *c.change_list()]
        return [c.actor, f" {verb} certificate ", c.ref("certificate", c.id, label)]

    return describe


def _certificates(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        certs = [
            c.ref("certificate", _d(cert).get("id"), _s(_d(cert).get("name")))
            for cert in _list(c.payload.get("certificates"))
        ]
        noun = "certificate " if len(certs) == 1 else "certificates "
        scope = c.in_project("for") or [" for the organization"]
        return [c.actor, f" {verb} {noun}", *(_join(certs) or ["(none listed)"]), *scope]

    return describe


def _checkpoint_permission_created(c: _Ctx) -> list[Part]:
    checkpoint = _s(c.data.get("fine_tuned_model_checkpoint")) or "a checkpoint"
    project = c.ref("project", c.data.get("project_id"))
    return [c.actor, " let project ", project, f" use the fine-tuned checkpoint {checkpoint}"]


def _group_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed group ", c.ref("group", c.id), *c.change_list()]


def _group_created(c: _Ctx) -> list[Part]:
    return [c.actor, " created group ", c.ref("group", c.id, _s(c.data.get("group_name")))]


def _invite_sent(c: _Ctx) -> list[Part]:
    email = _s(c.data.get("email")) or "someone"
    role = _s(c.data.get("role"))
    c.ref("invite", c.id, email)
    return [c.actor, f" invited {email}", *([f" as {role}"] if role else []), *c.in_project("to")]


def _invite(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        invite = c.ref("invite", c.id)
        label = invite.label if isinstance(invite, Ref) else invite
        if isinstance(invite, Ref) and label != invite.id:
            return [c.actor, f" {verb} the invitation for ", invite]
        return [c.actor, f" {verb} the invitation ", invite]

    return describe


def _ip_allowlist_created(c: _Ctx) -> list[Part]:
    ips = _list(c.payload.get("allowed_ips"))
    allowlist = c.ref("ip_allowlist", c.id, _s(c.payload.get("name")))
    count = f" with {len(ips)} address{'es' if len(ips) != 1 else ''}" if ips else ""
    return [c.actor, " created IP allowlist ", allowlist, count]


def _ip_allowlist_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed IP allowlist ", c.ref("ip_allowlist", c.id), *c.change_list()]


def _ip_allowlist_deleted(c: _Ctx) -> list[Part]:
    return [
        c.actor,
        " deleted IP allowlist ",
        c.ref("ip_allowlist", c.id, _s(c.payload.get("name"))),
    ]


def _ip_allowlist_configs(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        configs = [
            c.ref("ip_allowlist", _d(cfg).get("id"), _s(_d(cfg).get("name")))
            for cfg in _list(c.payload.get("configs"))
        ]
        noun = "IP allowlist " if len(configs) == 1 else "IP allowlists "
        return [c.actor, f" {verb} {noun}", *(_join(configs) or ["(none listed)"])]

    return describe


def _session(verb: str, failed: bool) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        ip = actor_fields(c.raw)["ip_address"]
        parts: list[Part] = [c.actor, f" {verb}"]
        if ip:
            parts.append(f" from {ip}")
        if failed:
            message = _s(c.payload.get("error_message"))
            code = _s(c.payload.get("error_code"))
            if message or code:
                parts.append(f": {message or code}" + (f" ({code})" if message and code else ""))
        return parts

    return describe


def _organization_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed the organization settings", *c.change_list()]


def _project_created(c: _Ctx) -> list[Part]:
    title = _s(c.data.get("title")) or _s(c.data.get("name"))
    return [c.actor, " created project ", c.ref("project", c.id, title)]


def _project_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed project ", c.ref("project", c.id), *c.change_list()]


def _rate_limit_updated(c: _Ctx) -> list[Part]:
    model = rate_limit_model(c.id) or "a model"
    c.ref("rate_limit", c.id, f"{model} rate limit")
    return [c.actor, f" changed the rate limit for {model}", *c.in_project(), *c.change_list()]


def _rate_limit_deleted(c: _Ctx) -> list[Part]:
    model = rate_limit_model(c.id) or "a model"
    c.ref("rate_limit", c.id, f"{model} rate limit")
    return [c.actor, f" reset the rate limit for {model}", *c.in_project(), " to its default"]


def _role_created(c: _Ctx) -> list[Part]:
    role = c.ref("role", c.id, _s(c.payload.get("role_name")))
    permissions = _list(c.payload.get("permissions"))
    parts: list[Part] = [c.actor, " created role ", role]
    if permissions:
        parts.append(f" with {len(permissions)} permission{'s' if len(permissions) != 1 else ''}")
    resource_type = _s(c.payload.get("resource_type"))
    if resource_type:
        parts.append(f" for {resource_type}")
    resource_id = c.payload.get("resource_id")
    if _s(resource_id):
        parts += [" ", c.ref(_kind_of(resource_type), resource_id)]
    return parts


def _role_updated(c: _Ctx) -> list[Part]:
    return [c.actor, " changed role ", c.ref("role", c.id), *c.change_list()]


def _kind_of(resource_type: str) -> str:
    """`api.project` → project, `api.organization` → organization."""
    tail = resource_type.rsplit(".", 1)[-1] if resource_type else ""
    return tail or "resource"


def _role_assignment(created: bool) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        principal_type = _s(c.payload.get("principal_type")) or "principal"
        principal = c.ref(principal_type, c.payload.get("principal_id"))
        role = c.ref("role", c.id)
        resource_type = _s(c.payload.get("resource_type"))
        where: list[Part] = []
        if _s(c.payload.get("resource_id")):
            where = [" on ", c.ref(_kind_of(resource_type), c.payload.get("resource_id"))]
        if created:
            return [
                c.actor,
                f" gave {humanize(principal_type)} ",
                principal,
                " the role ",
                role,
                *where,
            ]
        return [
            c.actor,
            " took the role ",
            role,
            f" from {humanize(principal_type)} ",
            principal,
            *where,
        ]

    return describe


def _role_binding(verb: str, preposition: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        role = c.ref("role", c.payload.get("role_id") or c.id)
        resource_type = _s(c.payload.get("resource_type"))
        target = c.ref(_kind_of(resource_type), c.payload.get("resource_id"))
        parts: list[Part] = [c.actor, f" {verb} role ", role, f" {preposition} "]
        parts += [f"{humanize(resource_type)} " if resource_type else "", target]
        connector = _s(c.payload.get("connector_name"))
        if connector:
            parts.append(f" (connector {connector})")
        return parts

    return describe


def _service_account_created(c: _Ctx) -> list[Part]:
    role = _s(c.data.get("role"))
    account = c.ref("service_account", c.id)
    return [
        c.actor,
        " created service account ",
        account,
        *c.in_project(),
        *([f" as {role}"] if role else []),
    ]


def _service_account_updated(c: _Ctx) -> list[Part]:
    account = c.ref("service_account", c.id)
    return [c.actor, " changed service account ", account, *c.in_project(), *c.change_list()]


def _user_added(c: _Ctx) -> list[Part]:
    role = _s(c.data.get("role"))
    where = c.in_project("to") or [" to the organization"]
    return [c.actor, " added ", c.ref("user", c.id), *where, *([f" as {role}"] if role else [])]


def _user_updated(c: _Ctx) -> list[Part]:
    where = c.in_project() or [" in the organization"]
    return [c.actor, " changed the role of ", c.ref("user", c.id), *where, *c.change_list()]


def _user_deleted(c: _Ctx) -> list[Part]:
    where = c.in_project("from") or [" from the organization"]
    return [c.actor, " removed ", c.ref("user", c.id), *where]


def _wip(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        provider = c.ref("workload_identity_provider", c.id, _s(c.payload.get("name")))
        return [c.actor, f" {verb} workload identity provider ", provider, *c.change_list()]

    return describe


def _wip_mapping(verb: str) -> Describer:
    def describe(c: _Ctx) -> list[Part]:
        provider = c.ref("workload_identity_provider", c.payload.get("identity_provider_id"))
        parts: list[Part] = [c.actor, f" {verb} a mapping ", c.ref("mapping", c.id)]
        parts += [" of workload identity provider ", provider]
        account = c.payload.get("service_account_id")
        if _s(account):
            parts += [" for service account ", c.ref("service_account", account)]
        return [*parts, *c.change_list()]

    return describe


def _external_storage_registered(c: _Ctx) -> list[Part]:
    provider = _s(_d(c.data.get("provider")).get("type"))
    geography = _s(c.data.get("geography"))
    detail = ", ".join(x for x in (provider, geography) if x)
    storage = c.ref("external_storage", c.id)
    return [
        c.actor,
        " registered external storage ",
        storage,
        *([f" ({detail})"] if detail else []),
    ]


DESCRIBERS: dict[str, Describer] = {
    "api_key.created": _api_key_created,
    "api_key.updated": _api_key_updated,
    "api_key.deleted": _simple("deleted", "key", "API key"),
    "certificate.created": _certificate("uploaded"),
    "certificate.updated": _certificate("renamed"),
    "certificate.deleted": _certificate("deleted"),
    "certificates.activated": _certificates("activated"),
    "certificates.deactivated": _certificates("deactivated"),
    "checkpoint.permission.created": _checkpoint_permission_created,
    "checkpoint.permission.deleted": _simple(
        "removed", "checkpoint_permission", "checkpoint permission"
    ),
    "external_key.registered": _simple("registered", "external_key", "external key"),
    "external_key.removed": _simple("removed", "external_key", "external key"),
    "external_storage.registered": _external_storage_registered,
    "external_storage.removed": _simple("removed", "external_storage", "external storage"),
    "group.created": _group_created,
    "group.updated": _group_updated,
    "group.deleted": _simple("deleted", "group", "group"),
    "invite.sent": _invite_sent,
    "invite.accepted": _invite("accepted"),
    "invite.deleted": _invite("deleted"),
    "ip_allowlist.created": _ip_allowlist_created,
    "ip_allowlist.updated": _ip_allowlist_updated,
    "ip_allowlist.deleted": _ip_allowlist_deleted,
    "ip_allowlist.config.activated": _ip_allowlist_configs("activated"),
    "ip_allowlist.config.deactivated": _ip_allowlist_configs("deactivated"),
    "login.succeeded": _session("signed in", failed=False),
    "login.failed": _session("failed to sign in", failed=True),
    "logout.succeeded": _session("signed out", failed=False),
    "logout.failed": _session("failed to sign out", failed=True),
    "organization.updated": _organization_updated,
    "project.created": _project_created,
    "project.updated": _project_updated,
    "project.archived": _simple("archived", "project", "project"),
    "project.deleted": _simple("deleted", "project", "project"),
    "rate_limit.updated": _rate_limit_updated,
    "rate_limit.deleted": _rate_limit_deleted,
    "role.created": _role_created,
    "role.updated": _role_updated,
    "role.deleted": _simple("deleted", "role", "role"),
    "role.assignment.created": _role_assignment(created=True),
    "role.assignment.deleted": _role_assignment(created=False),
    "role.bound_to_resource": _role_binding("bound", "to"),
    "role.unbound_from_resource": _role_binding("unbound", "from"),
    "scim.enabled": lambda c: [c.actor, " turned on SCIM provisioning"],
    "scim.disabled": lambda c: [c.actor, " turned off SCIM provisioning"],
    "service_account.created": _service_account_created,
    "service_account.updated": _service_account_updated,
    "service_account.deleted": _simple(
        "deleted", "service_account", "service account", where="from"
    ),
    "user.added": _user_added,
    "user.updated": _user_updated,
    "user.deleted": _user_deleted,
    "workload_identity_provider.created": _wip("added"),
    "workload_identity_provider.updated": _wip("changed"),
    "workload_identity_provider.deleted": _wip("deleted"),
    "workload_identity_provider_mapping.created": _wip_mapping("added"),
    "workload_identity_provider_mapping.updated": _wip_mapping("changed"),
    "workload_identity_provider_mapping.deleted": _wip_mapping("deleted"),
}


def _generic(c: _Ctx) -> list[Part]:
    """Any other type: `tenant.sso_connection.updated` → "… updated the tenant SSO connection"."""
    event_type = _s(c.raw.get("type")) or "unknown"
    head, _, verb = event_type.rpartition(".")
    parts: list[Part] = [c.actor]
    if head and verb in _VERBS:
        parts.append(f" {_VERBS[verb]} the {humanize(head)}")
    else:
        parts.append(f": {humanize(event_type)}")
    if c.id:
        parts += [" ", c.ref(category_of(event_type), c.id)]
    return [*parts, *c.in_project()]


# Types whose sentence needs nothing from the payload: a sign-in says who and from where.
_WHOLE_WITHOUT_PAYLOAD = frozenset(
    [t for t in DESCRIBERS if t.startswith(("login.", "logout.", "scim."))]
    + ["organization.updated"]
)


_BARE = {
    "role.bound_to_resource": "bound a role to a resource",
    "role.unbound_from_resource": "unbound a role from a resource",
}


def _without_payload(c: _Ctx) -> list[Part]:
    """A type with its own sentence whose event came without its payload: "… created an API
    key in Project X", the thing itself unnamed."""
    event_type = _s(c.raw.get("type"))
    head, _, verb = event_type.rpartition(".")
    noun = humanize(head)
    if noun.endswith(("s", "storage")):  # "activated certificates", "registered external storage"
        what = noun
    else:
        what = f"{'an' if noun[:1].lower() in 'aeio' else 'a'} {noun}"
    done = _BARE.get(event_type) or f"{_VERBS.get(verb, humanize(verb))} {what}"
    where = c.in_project("to" if verb in ("added", "sent") else "in")
    return [c.actor, f" {done}", *where]


def has_own_sentence(event_type: str) -> bool:
    return event_type in DESCRIBERS


def describe(
    raw: dict, *, names: dict[str, str] | None = None, history: list[dict] | None = None
) -> Description:
    """The sentence, the diff and the things an event touches. `history` is the earlier events
    about the same resource, oldest first; without it the befores are unknown."""
    names = names or {}
    raw = raw if isinstance(raw, dict) else {}
    refs: list[Ref] = []
    actor = _actor(raw, names, refs)
    project = _project(raw, names)
    if project:
        refs.append(project)
    changes = diff(raw, history)
    ctx = _Ctx(raw, payload_of(raw), names, changes, actor, project, refs)
    event_type = _s(raw.get("type"))
    describer = DESCRIBERS.get(event_type, _generic)
    missing = (
        event_type in DESCRIBERS
        and event_type not in _WHOLE_WITHOUT_PAYLOAD
        and not isinstance(raw.get(event_type), dict)
    )
    if missing:
        describer = _without_payload
    try:
        parts = describer(ctx)
    except (AttributeError, TypeError, ValueError, KeyError):
        # A payload that doesn't match its schema: say what we can rather than fail the page.
        parts = _generic(ctx)
    sentence = Sentence([p for p in parts if p != ""])
    return Description(sentence, changes, ctx.refs, payload_missing=missing)
