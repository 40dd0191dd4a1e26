"""The route table, the request a handler sees, and the management-key ACLs each route needs.

Management-key ACL strings are *inferred* (xAI documents "Billing: Read Only"-style choices in
its console but not their API spelling): `management-api:api-keys:read|write`,
`management-api:billing:read|write`, `management-api:audit:read`, or `management-api:*`.
A write ACL includes the matching read (*inferred*).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orgadmin.xai.simulator.errors import invalid
from orgadmin.xai.simulator.shapes import Shaper
from orgadmin.xai.simulator.store import ManagementKey, Store

ALL = "management-api:*"
KEYS_READ = "management-api:api-keys:read"
KEYS_WRITE = "management-api:api-keys:write"
BILLING_READ = "management-api:billing:read"
BILLING_WRITE = "management-api:billing:write"
AUDIT_READ = "management-api:audit:read"
MANAGEMENT_ACLS = (ALL, KEYS_READ, KEYS_WRITE, BILLING_READ, BILLING_WRITE, AUDIT_READ)


def allows(acls: tuple[str, ...], needed: str) -> bool:
    """Whether a management key with `acls` may use a route that needs `needed`."""
    if ALL in acls or needed in acls:
        return True
    if needed.endswith(":read") and needed.removesuffix(":read") + ":write" in acls:
        return True
    return any(a.endswith(":*") and needed.startswith(a[:-1]) for a in acls)


@dataclass
class Request:
    """What a handler gets: the store, the shaper, the clock and the parsed request."""

    store: Store
    shaper: Shaper
    now: datetime
    path: dict[str, str]
    query: list[tuple[str, str]]
    body: dict[str, Any]
    key: ManagementKey

    def q(self, *names: str) -> str | None:
        """The first value of the first of `names` present in the query string."""
        for name in names:
            for key, value in self.query:
                if key == name:
                    return value
        return None

    def qs(self, *names: str) -> list[str]:
        """Every value of `names` (repeated parameters; comma lists are split)."""
        out = []
        for key, value in self.query:
            if key in names:
                out += [v for v in value.split(",") if v]
        return out

    def q_int(self, name: str, default: int, *, low: int = 1, high: int = 10**9) -> int:
        raw = self.q(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"{name} must be an integer, not {raw!r}.") from None
        if value < low:
            raise invalid(f"{name} must be at least {low}.")
        return min(value, high)

    @property
    def user_id(self) -> str:
        return self.key.owner_user_id


Handler = Callable[[Request], dict[str, Any]]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    acl: str | None  # None: any valid management key
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{([A-Za-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.regex = re.compile(f"^{pattern}$")


ROUTES: list[Route] = []


def route(method: str, template: str, acl: str | None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of one documented operation."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, handler, acl))
        return handler

    return register


def parse_time(value: Any, name: str) -> datetime | None:
    """An RFC 3339 timestamp from a body or query (None when empty)."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 timestamp, not {value!r}.") from None
    if parsed.tzinfo is None:
        raise invalid(f"{name} must carry a timezone (e.g. Z).")
    return parsed


def as_int(value: Any, name: str, *, nullable: bool = True) -> int | None:
    """An integer that proto-JSON may send as a number or a string."""
    if value is None or value == "":
        if nullable:
            return None
        raise invalid(f"{name} is required.")
    if isinstance(value, bool):
        raise invalid(f"{name} must be an integer.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be an integer, not {value!r}.") from None
    if isinstance(value, float) and number != value:
        raise invalid(f"{name} must be an integer, not {value!r}.")
    if number < 0:
        raise invalid(f"{name} must not be negative.")
    return number


def as_bool(value: Any, name: str) -> bool:
    """A boolean, also as the strings "true"/"false" (the docs' example sends one)."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    if value is None:
        return False
    raise invalid(f"{name} must be a boolean.")


def cent_of(value: Any, name: str) -> int:
    """A `Cent` object's value in cents (`val` a number or a string)."""
    if not isinstance(value, dict):
        raise invalid(f"{name} must be a Cent object like {{'val': 1000}}.")
    raw = value.get("val", 0)
    if isinstance(raw, bool):
        raise invalid(f"{name}.val must be an integer.")
    try:
        cents = int(raw)
    except (TypeError, ValueError):
        raise invalid(f"{name}.val must be an integer, not {raw!r}.") from None
    if isinstance(raw, float) and cents != raw:
        raise invalid(f"{name}.val must be whole cents.")
    return cents
