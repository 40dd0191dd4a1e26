"""`/auth/...`: the team's API keys, their propagation, the models and the grantable ACLs.

Per-key paths are not under the team: `/auth/api-keys/{apiKeyId}`. A team-scoped per-key path
has no route, so it answers 404, as the reference says.
*Inferred*: keys list oldest first; `pageSize` defaults to and is capped at 100; `aclFilters`
keeps the keys holding every listed ACL; the pagination token is opaque and absent on the last
page; an empty or unknown field mask is a 400; a masked field absent from `apiKey` is cleared
(proto field-mask semantics); `activeOnly` drops disabled and expired keys.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

from orgadmin.xai.simulator.errors import invalid
from orgadmin.xai.simulator.routing import (
    KEYS_READ,
    KEYS_WRITE,
    Request,
    as_bool,
    as_int,
    parse_time,
    route,
)
from orgadmin.xai.simulator.store import ApiKey

PAGE_SIZE = 100
ACL = re.compile(r"^api-key:(model|endpoint):[A-Za-z0-9_.*:-]+$")
ENDPOINTS = {
    "chat": "Chat completions, responses and image understanding",
    "embed": "Embeddings",
    "image": "Image generation",
    "models": "Listing models",
    "tokenize": "Tokenizing text",
    "documents": "Document search",
    "*": "Every endpoint",
}


def _acls(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise invalid("acls must be a list of strings.")
    for acl in raw:
        if not ACL.match(acl):
            raise invalid(
                f"Invalid ACL {acl!r}: use api-key:model:<name> or api-key:endpoint:<name>."
            )
    return list(dict.fromkeys(raw))


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("name must not be empty.")
    return raw.strip()


def _tpm(raw: Any) -> int | None:
    return as_int(raw, "tpm")  # documented as a string; a number is accepted too


# Field-mask paths (camelCase and proto names) → (attribute, parser).
MASK = {
    "name": ("name", _name),
    "aclStrings": ("acls", _acls),
    "acl_strings": ("acls", _acls),
    "acls": ("acls", _acls),
    "qps": ("qps", lambda v: as_int(v, "qps")),
    "qpm": ("qpm", lambda v: as_int(v, "qpm")),
    "tpm": ("tpm", _tpm),
    "disabled": ("disabled", lambda v: as_bool(v, "disabled")),
    "expireTime": ("expire_time", lambda v: parse_time(v, "expireTime")),
    "expire_time": ("expire_time", lambda v: parse_time(v, "expireTime")),
}


def _token(key: ApiKey) -> str:
    raw = json.dumps([key.create_time.isoformat(), key.api_key_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(token: str) -> tuple[datetime, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        stamp, key_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(stamp), str(key_id)
    except (ValueError, TypeError):
        raise invalid("Invalid paginationToken.") from None


def _team_keys(req: Request) -> list[ApiKey]:
    keys = sorted(req.store.keys.values(), key=lambda k: (k.create_time, k.api_key_id))
    if as_bool(req.q("activeOnly", "active_only") or False, "activeOnly"):
        keys = [k for k in keys if k.active(req.now)]
    wanted = req.qs("aclFilters", "acl_filters")
    return [k for k in keys if all(acl in k.acls for acl in wanted)]


@route("GET", "/auth/teams/{teamId}/api-keys", KEYS_READ)
def list_keys(req: Request) -> dict[str, Any]:
    size = req.q_int("pageSize", PAGE_SIZE, high=PAGE_SIZE)
    keys = _team_keys(req)
    start = 0
    token = req.q("paginationToken", "pagination_token")
    if token:
        cursor = _cursor(token)
        start = next(
            (i for i, k in enumerate(keys) if (k.create_time, k.api_key_id) > cursor), len(keys)
        )
    page = keys[start : start + size]
    body: dict[str, Any] = {"apiKeys": req.shaper.key_list(req.store, page, start)}
    if start + size < len(keys):
        body["paginationToken"] = _token(page[-1])
    return body


@route("POST", "/auth/teams/{teamId}/api-keys", KEYS_WRITE)
def create_key(req: Request) -> dict[str, Any]:
    body = req.body
    key = req.store.key_create(
        name=_name(body.get("name")),
        user_id=req.user_id,
        when=req.now,
        acls=_acls(body.get("acls", body.get("aclStrings"))),
        qps=as_int(body.get("qps"), "qps"),
        qpm=as_int(body.get("qpm"), "qpm"),
        tpm=_tpm(body.get("tpm")),
        expire_time=parse_time(body.get("expireTime", body.get("expire_time")), "expireTime"),
    )
    return req.shaper.one_key(req.store, key, secret=True)


def _mask_paths(raw: Any) -> list[str]:
    if isinstance(raw, dict):  # {"paths": [...]}, as some proto-JSON encoders write a mask
        raw = ",".join(raw.get("paths") or [])
    if not isinstance(raw, str) or not raw.strip():
        raise invalid('fieldMask must name the fields to update, e.g. "tpm" or "qps,qpm".')
    paths = [p.strip() for p in raw.split(",") if p.strip()]
    unknown = [p for p in paths if p not in MASK]
    if unknown:
        raise invalid(f"Invalid fieldMask path {unknown[0]!r}.")
    return paths


@route("PUT", "/auth/api-keys/{apiKeyId}", KEYS_WRITE)
def update_key(req: Request) -> dict[str, Any]:
    api_key_id = req.path["apiKeyId"]
    req.store.key(api_key_id)  # 404 first
    paths = _mask_paths(req.body.get("fieldMask", req.body.get("field_mask")))
    given = req.body.get("apiKey", req.body.get("api_key")) or {}
    if not isinstance(given, dict):
        raise invalid("apiKey must be an object.")
    changes = {}
    for path in paths:
        attribute, parse = MASK[path]
        value = next((given[p] for p in MASK if MASK[p][0] == attribute and p in given), None)
        changes[attribute] = parse(value)
    key = req.store.key_update(api_key_id, changes, user_id=req.user_id, when=req.now)
    return req.shaper.one_key(req.store, key)


@route("POST", "/auth/api-keys/{apiKeyId}/rotate", KEYS_WRITE)
def rotate_key(req: Request) -> dict[str, Any]:
    raw = req.body.get("oldSecretExpireTime", req.body.get("old_secret_expire_time"))
    expire = parse_time(raw, "oldSecretExpireTime")
    key = req.store.key_rotate(req.path["apiKeyId"], expire, user_id=req.user_id, when=req.now)
    return req.shaper.one_key(req.store, key, secret=True)


@route("DELETE", "/auth/api-keys/{apiKeyId}", KEYS_WRITE)
def delete_key(req: Request) -> dict[str, Any]:
    req.store.key_delete(req.path["apiKeyId"], user_id=req.user_id, when=req.now)
    return {}


@route("GET", "/auth/api-keys/{apiKeyId}/propagation", KEYS_READ)
def propagation(req: Request) -> dict[str, Any]:
    return req.shaper.propagation(req.store.key(req.path["apiKeyId"]), req.now)


@route("GET", "/auth/teams/{teamId}/models", KEYS_READ)
def list_models(req: Request) -> dict[str, Any]:
    """*Inferred* shape (see `scenarios.MODELS`); prices are int64, so sometimes strings."""
    shaper, out = req.shaper, []
    for i, model in enumerate(req.store.models):
        stringy = shaper.nth(i, "models")
        shaped = {
            k: shaper.int64(v, stringy) if k.endswith("Price") else v for k, v in model.items()
        }
        shaped["clusterRateLimits"] = [
            {**limits, "tpm": shaper.int64(limits["tpm"], not stringy)}
            for limits in model["clusterRateLimits"]
        ]
        out.append(shaped)
    return {"models": out}


@route("GET", "/auth/teams/{teamId}/endpoints", KEYS_READ)
def list_endpoints(req: Request) -> dict[str, Any]:
    """*Inferred*: the answer's list is under `endpoints` (the docs name only the items)."""
    items = [
        {
            "acl": f"api-key:endpoint:{value}",
            "description": description,
            "namespace": "api-key",
            "key": "endpoint",
            "value": value,
        }
        for value, description in ENDPOINTS.items()
    ]
    return {"endpoints": items}


@route("GET", "/auth/management-keys/validation", None)
def validate_management_key(req: Request) -> dict[str, Any]:
    return req.shaper.management_key(req.key, req.store.team_id)
