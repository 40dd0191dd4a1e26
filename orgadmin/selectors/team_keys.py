"""Live reads of an xAI team's API keys: the list, the ACLs a key can be granted, propagation.

xAI's keys are not synced into our tables: every read asks the Management API (through
`orgadmin.xai.client`), so each function here is one or two requests, and raises `OrgAPIError`
when the API refuses or can't be reached. The team id comes from the caller
(`orgadmin.services.teams.team_id`), so a read never writes. Nothing here holds a secret: the
list carries only the redacted key (`xai-...abcd`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from orgadmin.models import Organization
from orgadmin.xai.client import xai_client
from orgadmin.xai.types import ApiKey

ENDPOINT = "api-key:endpoint:"
MODEL = "api-key:model:"
ALL_ENDPOINTS = ENDPOINT + "*"
ALL_MODELS = MODEL + "*"


@dataclass(frozen=True)
class AclChip:
    """One ACL of a key as the page shows it: "endpoint: chat", "every model"."""

    acl: str
    label: str
    wildcard: bool


def acl_chip(acl: str) -> AclChip:
    """How an ACL string reads on the page (an unknown shape is shown as it came)."""
    groups = ((ENDPOINT, "endpoint", "every endpoint"), (MODEL, "model", "every model"))
    for prefix, noun, every in groups:
        if acl.startswith(prefix):
            value = acl.removeprefix(prefix)
            return AclChip(acl, every if value == "*" else f"{noun}: {value}", value == "*")
    return AclChip(acl, acl, False)


@dataclass
class TeamKeyRow:
    """A key of the team, with what the list shows of it."""

    key: ApiKey
    chips: list[AclChip]
    expired: bool

    @property
    def id(self) -> str:
        return self.key.api_key_id

    @property
    def limits(self) -> list[str]:
        """The key's own rate limits, as "5 qps"; empty when the team's apply."""
        values = (("qps", self.key.qps), ("qpm", self.key.qpm), ("tpm", self.key.tpm))
        return [f"{value:,} {name}" for name, value in values if value]

    @property
    def label(self) -> str:
        """The key by name and redacted value, never the secret: “ci” (xai-...abcd)."""
        return key_label(self.key)


@dataclass
class TeamKeys:
    rows: list[TeamKeyRow]
    request_id: str = ""


@dataclass
class AclChoices:
    """What a key can be granted: (ACL, label) pairs, each group with its `*` wildcard first."""

    endpoints: list[tuple[str, str]] = field(default_factory=list)
    models: list[tuple[str, str]] = field(default_factory=list)

    def all(self) -> set[str]:
        return {acl for acl, _ in self.endpoints + self.models}


def key_label(key: ApiKey) -> str:
    name = key.name or "(unnamed)"
    return f"“{name}” ({key.redacted_api_key})" if key.redacted_api_key else f"“{name}”"


def team_key_row(key: ApiKey, *, now: datetime) -> TeamKeyRow:
    expired = key.expire_time is not None and key.expire_time <= now
    return TeamKeyRow(key=key, chips=[acl_chip(a) for a in key.acl_strings], expired=expired)


def team_keys_list(*, org: Organization, team_id: str, now: datetime) -> TeamKeys:
    """Every key of the team, newest first (one request per page of 100)."""
    with xai_client(org) as client:
        keys = client.list_api_keys(team_id)
        request_id = client.last_request_id
    keys.sort(key=lambda k: (k.create_time is not None, k.create_time), reverse=True)
    return TeamKeys([team_key_row(k, now=now) for k in keys], request_id)


def team_key_get(*, org: Organization, team_id: str, api_key_id: str) -> ApiKey | None:
    """One key of the team, or None (the API has no per-key read: the list is searched)."""
    with xai_client(org) as client:
        keys = client.list_api_keys(team_id)
    return next((k for k in keys if k.api_key_id == api_key_id), None)


def team_key_acl_choices(*, org: Organization, team_id: str) -> AclChoices:
    """The ACLs a key of the team can be granted, from its endpoints and its models (two
    requests); the `*` wildcard of each group comes first, whether the API lists it or not."""
    with xai_client(org) as client:
        endpoints = client.list_endpoints(team_id)
        models = client.list_models(team_id)
    choices = AclChoices(
        endpoints=[(ALL_ENDPOINTS, "Every endpoint")], models=[(ALL_MODELS, "Every model")]
    )
    for endpoint in endpoints:
        acl = endpoint.acl or f"{ENDPOINT}{endpoint.value}"
        if acl.startswith(ENDPOINT) and acl != ALL_ENDPOINTS:
            value = acl.removeprefix(ENDPOINT)
            label = f"{value} — {endpoint.description}" if endpoint.description else value
            choices.endpoints.append((acl, label))
    names = sorted({m.name for m in models if m.name and m.name != "*"})
    choices.models += [(f"{MODEL}{name}", name) for name in names]
    return choices


def team_key_propagation(*, org: Organization, api_key_id: str) -> dict[str, bool]:
    """Whether the key is live in each inference cluster, by cluster host (one request)."""
    with xai_client(org) as client:
        return dict(sorted(client.key_propagation(api_key_id).items()))
