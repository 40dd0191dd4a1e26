"""Organization-level endpoints: admin keys, users, invites, audit logs, retention, spend."""

from __future__ import annotations

import datetime as dt
from typing import Any

from orgadmin.simulator.audit import EVENT_TYPES
from orgadmin.simulator.endpoints._common import admin_key_api, emit, user_api
from orgadmin.simulator.errors import conflict, invalid, not_found
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import (
    AFTER,
    BEFORE,
    LIMIT_1_100,
    ORDER_ASC,
    q_array,
    q_bool,
    q_int,
    q_object,
    q_str,
)
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_int, s_str
from orgadmin.simulator.store import AdminKey, Invite, SpendAlert, SpendLimit, Store, redact

INVITE_TTL = 7 * 86400
RETENTION_TYPES = (
    "zero_data_retention",
    "modified_abuse_monitoring",
    "enhanced_zero_data_retention",
    "enhanced_modified_abuse_monitoring",
)


def _created_key(item: Any) -> tuple[int, str]:
    return (item.created_at, item.id)


def _cursor(store: Store, table: dict[str, Any], key: Any = _created_key) -> Any:
    def resolve(object_id: str) -> tuple[Any, ...] | None:
        found = table.get(object_id)
        return key(found) if found is not None else store.retired.get(object_id)

    return resolve


# --- admin API keys ----------------------------------------------------------------------------


@route(
    "GET",
    "/organization/admin_api_keys",
    "admin-api-keys-list",
    query=(q_str("after"), ORDER_ASC, q_int("limit", default=20, minimum=1)),
)
def admin_keys_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    keys = sorted(store.admin_keys.values(), key=_created_key, reverse=q["order"] == "desc")
    page, more = window(
        keys,
        sort_key=_created_key,
        cursor_key=_cursor(store, store.admin_keys),
        limit=q["limit"],
        after=q["after"],
        descending=q["order"] == "desc",
    )
    return list_a([admin_key_api(store, k) for k in page], more)


@route(
    "POST",
    "/organization/admin_api_keys",
    "admin-api-keys-create",
    body=obj({"name": s_str()}, {"expires_in_seconds": s_int(minimum=1, maximum=31536000)}),
)
def admin_keys_create(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    value = store.new_secret("sk-admin-", 56)
    expires = body.get("expires_in_seconds")
    key = AdminKey(
        id=store.new_id("key_", 16),
        name=body["name"],
        value=value,
        redacted_value=redact(value, "sk-admin"),
        created_at=ctx.now,
        expires_at=ctx.now + expires if expires else None,
        last_used_at=None,
        owner_user_id=ctx.admin_key.owner_user_id,
    )
    store.admin_keys[key.id] = key
    emit(ctx, "tenant.admin_api_key.created", resource_ids=(key.id,))
    return {**admin_key_api(store, key), "value": value}


@route("GET", "/organization/admin_api_keys/{key_id}", "admin-api-keys-get")
def admin_keys_get(ctx: Ctx) -> dict[str, Any]:
    key = ctx.store.admin_keys.get(ctx.path["key_id"])
    if key is None:
        raise not_found("admin API key", ctx.path["key_id"])
    return admin_key_api(ctx.store, key)


@route("DELETE", "/organization/admin_api_keys/{key_id}", "admin-api-keys-delete")
def admin_keys_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    key = store.admin_keys.pop(ctx.path["key_id"], None)
    if key is None:
        raise not_found("admin API key", ctx.path["key_id"])
    store.retire(key.id, _created_key(key))
    emit(ctx, "tenant.admin_api_key.deleted", resource_ids=(key.id,))
    return {"id": key.id, "object": "organization.admin_api_key.deleted", "deleted": True}


# --- users -------------------------------------------------------------------------------------


def _added_key(user: Any) -> tuple[int, str]:
    return (user.added_at, user.id)


@route("GET", "/organization/users", "list-users", query=(LIMIT_1_100, AFTER, q_array("emails")))
def users_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    users = sorted(store.users.values(), key=_added_key)
    if q["emails"]:
        wanted = {e.lower() for e in q["emails"]}
        users = [u for u in users if u.email.lower() in wanted]
    page, more = window(
        users,
        sort_key=_added_key,
        cursor_key=_cursor(store, store.users, _added_key),
        limit=q["limit"],
        after=q["after"],
    )
    return list_a([user_api(store, u) for u in page], more)


@route("GET", "/organization/users/{user_id}", "retrieve-user")
def users_get(ctx: Ctx) -> dict[str, Any]:
    return user_api(ctx.store, ctx.store.get_user(ctx.path["user_id"]))


@route(
    "POST",
    "/organization/users/{user_id}",
    "modify-user",
    body=obj(
        optional={
            "role": s_str(nullable=True),
            "role_id": s_str(nullable=True),
            "technical_level": s_str(nullable=True),
            "developer_persona": s_str(nullable=True),
        }
    ),
)
def users_modify(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    user = store.get_user(ctx.path["user_id"])
    new_role = body.get("role")
    if body.get("role_id"):
        role = store.roles.get(body["role_id"])
        if role is None:
            raise invalid("role_id", f"Invalid 'role_id': no role with id '{body['role_id']}'.")
        if role.predefined:
            new_role = role.name.lower()
        else:
            store.user_roles.setdefault(user.id, {}).setdefault(role.id, ctx.now)
            emit(
                ctx,
                "role.assignment.created",
                {
                    "id": role.id,
                    "principal_id": user.id,
                    "principal_type": "user",
                    "resource_id": store.org_id,
                    "resource_type": "api.organization",
                },
                resource_ids=(user.id,),
            )
    if new_role is not None:
        if new_role not in ("owner", "reader"):
            raise invalid("role", f"Invalid 'role': '{new_role}'. Must be 'owner' or 'reader'.")
        if user.role == "owner" and new_role != "owner" and _owner_count(store) == 1:
            raise conflict("The organization must keep at least one owner.", param="role")
        if new_role != user.role:
            user.role = new_role
            emit(ctx, "user.updated", {"id": user.id, "changes_requested": {"role": new_role}})
    for field in ("technical_level", "developer_persona"):
        if field in body:
            setattr(user, field, body[field])
    return user_api(store, user)


def _owner_count(store: Store) -> int:
    return sum(1 for u in store.users.values() if u.role == "owner")


@route("DELETE", "/organization/users/{user_id}", "delete-user")
def users_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    user = store.get_user(ctx.path["user_id"])
    if user.role == "owner" and _owner_count(store) == 1:
        raise conflict("The organization's last owner cannot be removed.", param="user_id")
    del store.users[user.id]
    store.retire(user.id, _added_key(user))
    for project in store.projects.values():
        project.members.pop(user.id, None)
    for group in store.groups.values():
        group.users.pop(user.id, None)
    store.user_roles.pop(user.id, None)
    for key in store.api_keys.values():
        if key.owner_id == user.id:  # the keys stay listed but can no longer be used
            store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "user.deleted", {"id": user.id})
    return {"object": "organization.user.deleted", "id": user.id, "deleted": True}


# --- invites -----------------------------------------------------------------------------------


def invite_api(invite: Invite, now: int) -> dict[str, Any]:
    """An `organization.invite`; a pending invite past its expiry reads as expired."""
    status = invite.status
    if status == "pending" and invite.expires_at is not None and invite.expires_at <= now:
        status = "expired"
    return {
        "object": "organization.invite",
        "id": invite.id,
        "email": invite.email,
        "role": invite.role,
        "status": status,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "accepted_at": invite.accepted_at,
        "projects": [dict(p) for p in invite.projects],
    }


@route("GET", "/organization/invites", "list-invites", query=(LIMIT_1_100, AFTER))
def invites_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    invites = sorted(store.invites.values(), key=_created_key)
    page, more = window(
        invites,
        sort_key=_created_key,
        cursor_key=_cursor(store, store.invites),
        limit=q["limit"],
        after=q["after"],
    )
    return list_a([invite_api(i, ctx.now) for i in page], more)


_PROJECT_GRANT = obj({"id": s_str(), "role": s_str(enum=("member", "owner"))})


@route(
    "POST",
    "/organization/invites",
    "inviteUser",
    body=obj(
        {"email": s_str(), "role": s_str(enum=("reader", "owner"))},
        {"projects": s_array(_PROJECT_GRANT)},
    ),
)
def invites_create(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    email = body["email"].strip()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise invalid("email", f"Invalid 'email': '{email}' is not an email address.")
    lowered = email.lower()
    if any(u.email.lower() == lowered for u in store.users.values()):
        raise conflict(f"'{email}' is already a member of this organization.", param="email")
    for existing in store.invites.values():
        pending = invite_api(existing, ctx.now)["status"] == "pending"
        if pending and existing.email.lower() == lowered:
            raise conflict(f"'{email}' already has a pending invite.", param="email")
    if "projects" in body:
        grants = body["projects"]
    else:  # the legacy behaviour: the invitee joins the default project
        grants = [{"id": store.default_project_id, "role": "member"}]
    for index, grant in enumerate(grants):
        project = store.projects.get(grant["id"])
        if project is None:
            raise invalid(f"projects[{index}].id", f"No such project: '{grant['id']}'.")
        if project.archived_at is not None:
            raise invalid(f"projects[{index}].id", f"Project '{grant['id']}' is archived.")
    invite = Invite(
        id=store.new_id("invite-"),
        email=email,
        role=body["role"],
        status="pending",
        created_at=ctx.now,
        expires_at=ctx.now + INVITE_TTL,
        accepted_at=None,
        projects=[{"id": g["id"], "role": g["role"]} for g in grants],
    )
    store.invites[invite.id] = invite
    emit(ctx, "invite.sent", {"id": invite.id, "data": {"email": email, "role": invite.role}})
    return invite_api(invite, ctx.now)


@route("GET", "/organization/invites/{invite_id}", "retrieve-invite")
def invites_get(ctx: Ctx) -> dict[str, Any]:
    invite = ctx.store.invites.get(ctx.path["invite_id"])
    if invite is None:
        raise not_found("invite", ctx.path["invite_id"])
    return invite_api(invite, ctx.now)


@route("DELETE", "/organization/invites/{invite_id}", "delete-invite")
def invites_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    invite = store.invites.get(ctx.path["invite_id"])
    if invite is None:
        raise not_found("invite", ctx.path["invite_id"])
    if invite.status == "accepted":
        raise conflict("This invite has already been accepted and cannot be deleted.")
    del store.invites[invite.id]
    store.retire(invite.id, _created_key(invite))
    emit(ctx, "invite.deleted", {"id": invite.id})
    return {"object": "organization.invite.deleted", "id": invite.id, "deleted": True}


# --- audit logs --------------------------------------------------------------------------------


@route(
    "GET",
    "/organization/audit_logs",
    "list-audit-logs",
    query=(
        q_object("effective_at", ("gt", "gte", "lt", "lte")),
        q_array("project_ids", brackets=True),
        q_array("event_types", enum=EVENT_TYPES, brackets=True),
        q_array("actor_ids", brackets=True),
        q_array("actor_emails", brackets=True),
        q_array("resource_ids", brackets=True),
        q_bool("tenant_only", default=False),
        LIMIT_1_100,
        AFTER,
        BEFORE,
    ),
)
def audit_logs_list(ctx: Ctx) -> dict[str, Any]:
    page, more = ctx.store.audit.query(ctx.query, live=ctx.store.quirks.live_audit_shapes)
    return list_a(page, more)


# --- data retention ----------------------------------------------------------------------------


@route("GET", "/organization/data_retention", "retrieve-organization-data-retention")
def data_retention_get(ctx: Ctx) -> dict[str, Any]:
    return {"object": "organization.data_retention", "type": ctx.store.data_retention}


@route(
    "POST",
    "/organization/data_retention",
    "update-organization-data-retention",
    body=obj({"retention_type": s_str(enum=RETENTION_TYPES)}),
)
def data_retention_update(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    if ctx.body["retention_type"] != store.data_retention:
        store.data_retention = ctx.body["retention_type"]
        emit(ctx, "tenant.resource_access.updated", resource_ids=(store.org_id,))
    return {"object": "organization.data_retention", "type": store.data_retention}


# --- spend alerts and limits (shared with the project scope) -----------------------------------

SPEND_ALERT_BODY = obj(
    {
        "threshold_amount": s_int(minimum=0),
        "currency": s_str(enum=("USD",)),
        "interval": s_str(enum=("month",)),
        "notification_channel": obj(
            {"type": s_str(enum=("email",)), "recipients": s_array(s_str())},
            {"subject_prefix": s_str(nullable=True)},
        ),
    }
)
SPEND_LIMIT_BODY = obj(
    {
        "threshold_amount": s_int(minimum=1),
        "currency": s_str(enum=("USD",)),
        "interval": s_str(enum=("month",)),
    }
)
SPEND_ALERT_LIST_QUERY = (
    q_int("limit", default=20, minimum=0, maximum=100),
    ORDER_ASC,
    AFTER,
    BEFORE,
)


def alert_api(alert: SpendAlert, scope: str) -> dict[str, Any]:
    """An `organization.spend_alert` or `project.spend_alert`."""
    return {
        "id": alert.id,
        "object": f"{scope}.spend_alert",
        "threshold_amount": alert.threshold_amount,
        "currency": alert.currency,
        "interval": alert.interval,
        "notification_channel": {
            "type": "email",
            "recipients": list(alert.recipients),
            "subject_prefix": alert.subject_prefix,
        },
    }


def list_alerts(ctx: Ctx, alerts: dict[str, SpendAlert], scope: str) -> dict[str, Any]:
    """A page of spend alerts (style A) at either scope."""
    q = ctx.query
    descending = q["order"] == "desc"
    ordered = sorted(alerts.values(), key=_created_key, reverse=descending)
    page, more = window(
        ordered,
        sort_key=_created_key,
        cursor_key=_cursor(ctx.store, alerts),
        limit=q["limit"],
        after=q["after"],
        before=q["before"],
        descending=descending,
    )
    return list_a([alert_api(a, scope) for a in page], more)


def save_alert(ctx: Ctx, alert_id: str | None, created_at: int) -> SpendAlert:
    """A spend alert built from the request body (a new one when `alert_id` is None)."""
    body = ctx.body
    channel = body["notification_channel"]
    for index, recipient in enumerate(channel["recipients"]):
        if "@" not in recipient:
            raise invalid(
                f"notification_channel.recipients[{index}]",
                f"Invalid recipient: '{recipient}' is not an email address.",
            )
    if not channel["recipients"]:
        raise invalid("notification_channel.recipients", "At least one recipient is required.")
    return SpendAlert(
        id=alert_id or ctx.store.new_id("alert_"),
        threshold_amount=body["threshold_amount"],
        currency=body["currency"],
        interval=body["interval"],
        recipients=list(channel["recipients"]),
        subject_prefix=channel.get("subject_prefix"),
        created_at=created_at,
    )


def month_start(now: int) -> int:
    """UTC midnight of the first day of the current month."""
    today = dt.datetime.fromtimestamp(now, dt.UTC)
    return int(dt.datetime(today.year, today.month, 1, tzinfo=dt.UTC).timestamp())


def limit_api(
    ctx: Ctx, limit: SpendLimit, scope: str, project_id: str | None = None
) -> dict[str, Any]:
    """A spend limit; it is `enforcing` once month-to-date costs reach the threshold."""
    filters = {"project_ids": [project_id]} if project_id else {}
    spent = ctx.store.usage.cost_total(
        month_start(ctx.now), ctx.now + 1, now=ctx.now, filters=filters
    )
    enforcing = spent * 100 >= limit.threshold_amount
    return {
        "object": f"{scope}.spend_limit",
        "threshold_amount": limit.threshold_amount,
        "currency": limit.currency,
        "interval": limit.interval,
        "enforcement": {"status": "enforcing" if enforcing else "inactive"},
    }


@route(
    "GET",
    "/organization/spend_alerts",
    "list-organization-spend-alerts",
    query=SPEND_ALERT_LIST_QUERY,
)
def org_alerts_list(ctx: Ctx) -> dict[str, Any]:
    return list_alerts(ctx, ctx.store.spend_alerts, "organization")


@route(
    "POST",
    "/organization/spend_alerts",
    "create-organization-spend-alert",
    body=SPEND_ALERT_BODY,
)
def org_alerts_create(ctx: Ctx) -> dict[str, Any]:
    alert = save_alert(ctx, None, ctx.now)
    ctx.store.spend_alerts[alert.id] = alert
    emit(ctx, "tenant.billing.alerts.updated", resource_ids=(alert.id,))
    return alert_api(alert, "organization")


def _org_alert(ctx: Ctx) -> SpendAlert:
    alert = ctx.store.spend_alerts.get(ctx.path["alert_id"])
    if alert is None:
        raise not_found("spend alert", ctx.path["alert_id"])
    return alert


@route("GET", "/organization/spend_alerts/{alert_id}", "retrieve-organization-spend-alert")
def org_alerts_get(ctx: Ctx) -> dict[str, Any]:
    return alert_api(_org_alert(ctx), "organization")


@route(
    "POST",
    "/organization/spend_alerts/{alert_id}",
    "update-organization-spend-alert",
    body=SPEND_ALERT_BODY,
)
def org_alerts_update(ctx: Ctx) -> dict[str, Any]:
    old = _org_alert(ctx)
    alert = save_alert(ctx, old.id, old.created_at)
    ctx.store.spend_alerts[alert.id] = alert
    emit(ctx, "tenant.billing.alerts.updated", resource_ids=(alert.id,))
    return alert_api(alert, "organization")


@route("DELETE", "/organization/spend_alerts/{alert_id}", "delete-organization-spend-alert")
def org_alerts_delete(ctx: Ctx) -> dict[str, Any]:
    alert = _org_alert(ctx)
    del ctx.store.spend_alerts[alert.id]
    ctx.store.retire(alert.id, _created_key(alert))
    emit(ctx, "tenant.billing.alerts.updated", resource_ids=(alert.id,))
    return {"id": alert.id, "object": "organization.spend_alert.deleted", "deleted": True}


@route("GET", "/organization/spend_limit", "Getorganizationspendlimit")
def org_limit_get(ctx: Ctx) -> dict[str, Any]:
    if ctx.store.spend_limit is None:
        raise not_found("spend limit", "organization")
    return limit_api(ctx, ctx.store.spend_limit, "organization")


@route(
    "POST",
    "/organization/spend_limit",
    "Updateorganizationspendlimit",
    body=SPEND_LIMIT_BODY,
)
def org_limit_update(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body
    ctx.store.spend_limit = SpendLimit(body["threshold_amount"], body["currency"], body["interval"])
    emit(ctx, "tenant.billing.overage_limit.updated", resource_ids=(ctx.store.org_id,))
    return limit_api(ctx, ctx.store.spend_limit, "organization")


@route("DELETE", "/organization/spend_limit", "Deleteorganizationspendlimit")
def org_limit_delete(ctx: Ctx) -> dict[str, Any]:
    if ctx.store.spend_limit is None:
        raise not_found("spend limit", "organization")
    ctx.store.spend_limit = None
    emit(ctx, "tenant.billing.overage_limit.updated", resource_ids=(ctx.store.org_id,))
    return {"object": "organization.spend_limit.deleted", "deleted": True}
