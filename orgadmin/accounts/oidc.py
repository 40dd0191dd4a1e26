"""OIDC_ROLE_MAP, and the dashboard roles an identity provider's claims give someone.

`OIDC_ROLE_MAP` is a comma-separated list of `group=Role` (the role on every connection) or
`group=Role:Connection name` (on that connection only), e.g.
`dashboard-admins=Admin,finance=Finance:Acme Prod,auditors=Auditor`. A group is a value of the
claim named by OIDC_ROLE_CLAIM (`groups` by default): a list of names, or one name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orgadmin.access import Role


@dataclass(frozen=True)
class RoleRule:
    group: str
    role: Role
    connection: str | None  # a connection's name; None: every connection


class RoleMapError(ValueError):
    """OIDC_ROLE_MAP can't be read: the message names the entry."""


def parse_role_map(text: str) -> list[RoleRule]:
    """The rules of an OIDC_ROLE_MAP value, in order; RoleMapError for an entry that isn't
    `group=Role` or `group=Role:Connection`, or names no role of the dashboard."""
    rules = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        group, sep, target = entry.rpartition("=")
        role_name, _, connection = target.partition(":")
        group, role_name, connection = group.strip(), role_name.strip(), connection.strip()
        if not sep or not group or not role_name:
            raise RoleMapError(f"OIDC_ROLE_MAP: “{entry}” is not group=Role or group=Role:Name.")
        role = next((r for r in Role if r.value.lower() == role_name.lower()), None)
        if role is None:
            known = ", ".join(r.value for r in Role)
            raise RoleMapError(
                f"OIDC_ROLE_MAP: “{role_name}” in “{entry}” is not a role ({known})."
            )
        rules.append(RoleRule(group=group, role=role, connection=connection or None))
    return rules


def claim_values(claims: Mapping[str, Any], claim: str) -> set[str]:
    """The values of one claim as a set of strings: a list of names, or one name."""
    value = claims.get(claim)
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return {str(v) for v in value if isinstance(v, str | int)}
    return set()


def roles_from_claims(
    claims: Mapping[str, Any], *, claim: str, rules: list[RoleRule]
) -> set[tuple[Role, str | None]]:
    """The (role, connection name or None) pairs the claims' groups map to."""
    # Keycloak sends a group as its path, "/finance": "finance" in the map is that group too.
    groups = {g.strip("/") for g in claim_values(claims, claim)}
    return {(rule.role, rule.connection) for rule in rules if rule.group.strip("/") in groups}
