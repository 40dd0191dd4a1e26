"""One phrasing per audit event type, and `describe`, which gives an event its sentence.

Every type with a payload schema in the spec has its own phrasing; every other type, known or not
yet invented, gets a generic one; a type whose event came without its payload gets one that names
what it did but not the thing. Pure functions, no Django.
"""

from __future__ import annotations

from collections.abc import Callable

from orgadmin.audit import untyped
from orgadmin.audit.catalog import category_of
from orgadmin.audit.history import diff
from orgadmin.audit.raw import actor_fields, as_dict, as_list, as_text, payload_of
from orgadmin.audit.sentences import (
    Context,
    Description,
    Part,
    Ref,
    Sentence,
    actor_ref,
    format_value,
    humanize,
    project_ref,
)

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


Describer = Callable[[Context], list[Part]]


def _simple(verb: str, kind: str, noun: str, *, where: str = "in") -> Describer:
    def describe(c: Context) -> list[Part]:
        return [c.actor, f" {verb} {noun} ", c.ref(kind, c.id), *c.in_project(where)]

    return describe


def _api_key_created(c: Context) -> list[Part]:
    scopes = as_list(c.data.get("scopes"))
    tail = [f" with scopes {format_value(scopes)}"] if scopes else []
    return [c.actor, " created API key ", c.ref("key", c.id), *c.in_project(), *tail]


def _api_key_updated(c: Context) -> list[Part]:
    return [c.actor, " changed API key ", c.ref("key", c.id), *c.in_project(), *c.change_list()]


def _certificate(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        label = as_text(c.payload.get("name"))
        if verb == "renamed":
            return [c.actor, " renamed certificate ", c.ref("certificate", c.id), *c.change_list()]
        return [c.actor, f" {verb} certificate ", c.ref("certificate", c.id, label)]

    return describe


def _certificates(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        certs = [
            c.ref("certificate", as_dict(cert).get("id"), as_text(as_dict(cert).get("name")))
            for cert in as_list(c.payload.get("certificates"))
        ]
        noun = "certificate " if len(certs) == 1 else "certificates "
        scope = c.in_project("for") or [" for the organization"]
        return [c.actor, f" {verb} {noun}", *(_join(certs) or ["(none listed)"]), *scope]

    return describe


def _checkpoint_permission_created(c: Context) -> list[Part]:
    checkpoint = as_text(c.data.get("fine_tuned_model_checkpoint")) or "a checkpoint"
    project = c.ref("project", c.data.get("project_id"))
    return [c.actor, " let project ", project, f" use the fine-tuned checkpoint {checkpoint}"]


def _group_updated(c: Context) -> list[Part]:
    return [c.actor, " changed group ", c.ref("group", c.id), *c.change_list()]


def _group_created(c: Context) -> list[Part]:
    return [c.actor, " created group ", c.ref("group", c.id, as_text(c.data.get("group_name")))]


def _invite_sent(c: Context) -> list[Part]:
    email = as_text(c.data.get("email")) or "someone"
    role = as_text(c.data.get("role"))
    c.ref("invite", c.id, email)
    return [c.actor, f" invited {email}", *([f" as {role}"] if role else []), *c.in_project("to")]


def _invite(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        invite = c.ref("invite", c.id)
        label = invite.label if isinstance(invite, Ref) else invite
        if isinstance(invite, Ref) and label != invite.id:
            return [c.actor, f" {verb} the invitation for ", invite]
        return [c.actor, f" {verb} the invitation ", invite]

    return describe


def _ip_allowlist_created(c: Context) -> list[Part]:
    ips = as_list(c.payload.get("allowed_ips"))
    allowlist = c.ref("ip_allowlist", c.id, as_text(c.payload.get("name")))
    count = f" with {len(ips)} address{'es' if len(ips) != 1 else ''}" if ips else ""
    return [c.actor, " created IP allowlist ", allowlist, count]


def _ip_allowlist_updated(c: Context) -> list[Part]:
    return [c.actor, " changed IP allowlist ", c.ref("ip_allowlist", c.id), *c.change_list()]


def _ip_allowlist_deleted(c: Context) -> list[Part]:
    return [
        c.actor,
        " deleted IP allowlist ",
        c.ref("ip_allowlist", c.id, as_text(c.payload.get("name"))),
    ]


def _ip_allowlist_configs(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        configs = [
            c.ref("ip_allowlist", as_dict(cfg).get("id"), as_text(as_dict(cfg).get("name")))
            for cfg in as_list(c.payload.get("configs"))
        ]
        noun = "IP allowlist " if len(configs) == 1 else "IP allowlists "
        return [c.actor, f" {verb} {noun}", *(_join(configs) or ["(none listed)"])]

    return describe


def _session(verb: str, failed: bool) -> Describer:
    def describe(c: Context) -> list[Part]:
        ip = actor_fields(c.raw)["ip_address"]
        parts: list[Part] = [c.actor, f" {verb}"]
        if ip:
            parts.append(f" from {ip}")
        if failed:
            message = as_text(c.payload.get("error_message"))
            code = as_text(c.payload.get("error_code"))
            if message or code:
                parts.append(f": {message or code}" + (f" ({code})" if message and code else ""))
        return parts

    return describe


def _organization_updated(c: Context) -> list[Part]:
    return [c.actor, " changed the organization settings", *c.change_list()]


def _project_created(c: Context) -> list[Part]:
    title = as_text(c.data.get("title")) or as_text(c.data.get("name"))
    return [c.actor, " created project ", c.ref("project", c.id, title)]


def _project_updated(c: Context) -> list[Part]:
    return [c.actor, " changed project ", c.ref("project", c.id), *c.change_list()]


def _rate_limit_updated(c: Context) -> list[Part]:
    model = rate_limit_model(c.id) or "a model"
    c.ref("rate_limit", c.id, f"{model} rate limit")
    return [c.actor, f" changed the rate limit for {model}", *c.in_project(), *c.change_list()]


def _rate_limit_deleted(c: Context) -> list[Part]:
    model = rate_limit_model(c.id) or "a model"
    c.ref("rate_limit", c.id, f"{model} rate limit")
    return [c.actor, f" reset the rate limit for {model}", *c.in_project(), " to its default"]


def _role_created(c: Context) -> list[Part]:
    role = c.ref("role", c.id, as_text(c.payload.get("role_name")))
    permissions = as_list(c.payload.get("permissions"))
    parts: list[Part] = [c.actor, " created role ", role]
    if permissions:
        parts.append(f" with {len(permissions)} permission{'s' if len(permissions) != 1 else ''}")
    resource_type = as_text(c.payload.get("resource_type"))
    if resource_type:
        parts.append(f" for {resource_type}")
    resource_id = c.payload.get("resource_id")
    if as_text(resource_id):
        parts += [" ", c.ref(_kind_of(resource_type), resource_id)]
    return parts


def _role_updated(c: Context) -> list[Part]:
    return [c.actor, " changed role ", c.ref("role", c.id), *c.change_list()]


def _kind_of(resource_type: str) -> str:
    """`api.project` → project, `api.organization` → organization."""
    tail = resource_type.rsplit(".", 1)[-1] if resource_type else ""
    return tail or "resource"


def _role_assignment(created: bool) -> Describer:
    def describe(c: Context) -> list[Part]:
        principal_type = as_text(c.payload.get("principal_type")) or "principal"
        principal = c.ref(principal_type, c.payload.get("principal_id"))
        role = c.ref("role", c.id)
        resource_type = as_text(c.payload.get("resource_type"))
        where: list[Part] = []
        if as_text(c.payload.get("resource_id")):
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
    def describe(c: Context) -> list[Part]:
        role = c.ref("role", c.payload.get("role_id") or c.id)
        resource_type = as_text(c.payload.get("resource_type"))
        target = c.ref(_kind_of(resource_type), c.payload.get("resource_id"))
        parts: list[Part] = [c.actor, f" {verb} role ", role, f" {preposition} "]
        parts += [f"{humanize(resource_type)} " if resource_type else "", target]
        connector = as_text(c.payload.get("connector_name"))
        if connector:
            parts.append(f" (connector {connector})")
        return parts

    return describe


def _service_account_created(c: Context) -> list[Part]:
    role = as_text(c.data.get("role"))
    account = c.ref("service_account", c.id)
    return [
        c.actor,
        " created service account ",
        account,
        *c.in_project(),
        *([f" as {role}"] if role else []),
    ]


def _service_account_updated(c: Context) -> list[Part]:
    account = c.ref("service_account", c.id)
    return [c.actor, " changed service account ", account, *c.in_project(), *c.change_list()]


def _user_added(c: Context) -> list[Part]:
    role = as_text(c.data.get("role"))
    where = c.in_project("to") or [" to the organization"]
    return [c.actor, " added ", c.ref("user", c.id), *where, *([f" as {role}"] if role else [])]


def _user_updated(c: Context) -> list[Part]:
    where = c.in_project() or [" in the organization"]
    return [c.actor, " changed the role of ", c.ref("user", c.id), *where, *c.change_list()]


def _user_deleted(c: Context) -> list[Part]:
    where = c.in_project("from") or [" from the organization"]
    return [c.actor, " removed ", c.ref("user", c.id), *where]


def _wip(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        provider = c.ref("workload_identity_provider", c.id, as_text(c.payload.get("name")))
        return [c.actor, f" {verb} workload identity provider ", provider, *c.change_list()]

    return describe


def _wip_mapping(verb: str) -> Describer:
    def describe(c: Context) -> list[Part]:
        provider = c.ref("workload_identity_provider", c.payload.get("identity_provider_id"))
        parts: list[Part] = [c.actor, f" {verb} a mapping ", c.ref("mapping", c.id)]
        parts += [" of workload identity provider ", provider]
        account = c.payload.get("service_account_id")
        if as_text(account):
            parts += [" for service account ", c.ref("service_account", account)]
        return [*parts, *c.change_list()]

    return describe


def _external_storage_registered(c: Context) -> list[Part]:
    provider = as_text(as_dict(c.data.get("provider")).get("type"))
    geography = as_text(c.data.get("geography"))
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


def _generic(c: Context) -> list[Part]:
    """Any other type: `tenant.sso_connection.updated` → "… updated the tenant SSO connection"."""
    event_type = as_text(c.raw.get("type")) or "unknown"
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


def _without_payload(c: Context) -> list[Part]:
    """A type with its own sentence whose event came without its payload: "… created an API
    key in Project X", the thing itself unnamed."""
    event_type = as_text(c.raw.get("type"))
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
    if untyped.is_untyped(raw):
        return _describe_untyped(raw, names)
    refs: list[Ref] = []
    actor = actor_ref(raw, names, refs)
    project = project_ref(raw, names)
    if project:
        refs.append(project)
    changes = diff(raw, history)
    ctx = Context(raw, payload_of(raw), names, changes, actor, project, refs)
    event_type = as_text(raw.get("type"))
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


def _describe_untyped(raw: dict, names: dict[str, str]) -> Description:
    """An event with no type (orgadmin.audit.untyped): "<the user>: <the description as sent>".
    Nothing is inferred from the words, so there is no diff and no thing to link."""
    who = untyped.actor_fields(raw)
    label = (
        untyped.person_name(raw)
        or who["actor_email"]
        or names.get(who["actor_id"])
        or who["actor_id"]
    )
    actor: Part = "Someone"
    if label:
        actor = Ref("person", who["actor_id"] or who["actor_email"], label)
    text = untyped.description_of(raw).strip() or "(no description)"
    return Description(Sentence([actor, ": ", text]), [], [])
