"""xAI's ACL strings: what an API key may call, and what a management key may manage.

An API key's ACLs are `api-key:model:<name>` or `api-key:model:*`, and `api-key:endpoint:<name>`
or `api-key:endpoint:*` (xAI's management API guide); a new key may call nothing until it is
granted some. A management key's ACLs (*inferred*: xAI's console names them "Billing: Read Only"
and the like, the strings are not published) are read as `management-api:<area>:<read|write|*>`
or `management-api:*`, with the areas `api-keys`, `billing` and `audit`.

No Django inside: forms, pages and the connection check all read this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = [
    "ANY",
    "ENDPOINT",
    "MODEL",
    "acl_choices",
    "areas_of_management_key",
    "describe_acl",
    "format_acl",
    "parse_acl",
]

MODEL = "model"
ENDPOINT = "endpoint"
ANY = "*"
_PREFIX = "api-key"


class _Endpoint(Protocol):
    acl: str
    description: str
    value: str


class _Model(Protocol):
    name: str


def parse_acl(text: str) -> tuple[str, str]:
    """`api-key:model:grok-4` → ("model", "grok-4"), `api-key:endpoint:*` → ("endpoint", "*").
    Anything else comes back as ("", text): shown as it is, never dropped."""
    text = text.strip()
    prefix, _, rest = text.partition(":")
    kind, _, value = rest.partition(":")
    if prefix == _PREFIX and kind in (MODEL, ENDPOINT) and value:
        return kind, value
    return "", text


def format_acl(kind: str, value: str) -> str:
    """("model", "grok-4") → `api-key:model:grok-4`; ("", text) → text, as `parse_acl` gave it."""
    if not kind:
        return value
    if kind not in (MODEL, ENDPOINT) or not value or ":" in value:
        raise ValueError(f"not an API key ACL: {kind!r}, {value!r}")
    return f"{_PREFIX}:{kind}:{value}"


def describe_acl(text: str) -> str:
    """In words: "All models", "Model grok-4", "All endpoints", "Endpoint chat"."""
    kind, value = parse_acl(text)
    if not kind:
        return value
    if value == ANY:
        return f"All {kind}s"
    return f"{kind.capitalize()} {value}"


def acl_choices(
    endpoints: Iterable[_Endpoint], models: Iterable[_Model]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The ACL picker's grouped choices, from the team's `endpoints` and `models` answers:
    "Endpoints" then "Models", each with its "All …" first, without repeats."""
    groups: dict[str, dict[str, str]] = {
        ENDPOINT: {format_acl(ENDPOINT, ANY): "All endpoints"},
        MODEL: {format_acl(MODEL, ANY): "All models"},
    }
    for endpoint in endpoints:
        kind, value = parse_acl(endpoint.acl or "")
        if not kind and endpoint.value and ":" not in endpoint.value:
            kind, value = ENDPOINT, endpoint.value  # an answer with no `acl` string
        if not kind or value == ANY:
            continue
        label = value if not endpoint.description else f"{value}: {endpoint.description}"
        groups[kind].setdefault(format_acl(kind, value), label)
    for model in models:
        if model.name and ":" not in model.name:
            groups[MODEL].setdefault(format_acl(MODEL, model.name), model.name)
    return [("Endpoints", list(groups[ENDPOINT].items())), ("Models", list(groups[MODEL].items()))]


# --- management keys ----------------------------------------------------------------------------

_MANAGEMENT = "management-api"
# Management ACL area → the dashboard's areas (orgadmin.areas) it governs. The usage analytics
# sit under billing's paths and are the dashboard's costs.
_AREAS = {"api-keys": ("keys",), "billing": ("billing", "costs"), "audit": ("audit_log",)}
# Areas with nothing to change: reading them is all there is.
_READ_ONLY = frozenset({"costs", "audit_log"})


def areas_of_management_key(acls: Iterable[str]) -> dict[str, str]:
    """What a management key may not do, by area, as `Organization.key_limits` holds it:
    "none" (it may not read the area) or "read" (it may only read it); an area not named is
    allowed in full.

    Tolerant: ACLs that name none of the known areas (none at all, or a form not known) limit
    nothing, and the API's own refusals tell; `management-api:*` limits nothing.
    """
    grants: dict[str, set[str]] = {}
    known = False
    for text in acls:
        parts = text.strip().lower().split(":")
        if parts[0] != _MANAGEMENT:
            continue
        if len(parts) == 1 or parts[1] == ANY:
            return {}
        known = known or parts[1] in _AREAS
        access = parts[2] if len(parts) > 2 else ANY
        grants.setdefault(parts[1], set()).add(access)
    if not known:
        return {}
    limits: dict[str, str] = {}
    for acl_area, areas in _AREAS.items():
        granted = grants.get(acl_area, set())
        writes = bool(granted & {"write", ANY})
        reads = writes or "read" in granted
        for area in areas:
            if not reads:
                limits[area] = "none"
            elif not writes and area not in _READ_ONLY:
                limits[area] = "read"
    return limits
