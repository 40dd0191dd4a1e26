"""The route table: one `Route` per spec operation, declared next to its handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orgadmin.simulator.params import Param

if TYPE_CHECKING:
    from orgadmin.simulator.audit import Actor
    from orgadmin.simulator.store import AdminKey, Store


class RawJSON:
    """A response body that is already serialised JSON (usage pages build theirs from parts)."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


@dataclass
class Ctx:
    """What a handler gets: the store, the clock, and the parsed request."""

    store: Store
    now: int
    path: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]
    admin_key: AdminKey
    actor: Actor


Handler = Callable[[Ctx], "dict[str, Any] | RawJSON"]


@dataclass
class Route:
    """One operation: method, path template, operationId and its declared parameters."""

    method: str
    template: str  # relative to /v1, as in the spec
    operation_id: str
    handler: Handler
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None  # the JSON body's schema (params.validate_body dialect)
    body_optional: bool = False
    locked: bool = True  # False for read-only handlers that don't touch the directory
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.regex = re.compile(f"^{pattern}$")

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.template.split("/") if part and not part.startswith("{"))


ROUTES: list[Route] = []


def route(
    method: str,
    template: str,
    operation_id: str,
    *,
    query: tuple[Param, ...] = (),
    body: dict[str, Any] | None = None,
    body_optional: bool = False,
    locked: bool = True,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of one spec operation."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(
            Route(method, template, operation_id, handler, query, body, body_optional, locked)
        )
        return handler

    return register


# Small helpers for body schemas in the validate_body dialect.


def obj(
    required: dict[str, Any] | None = None, optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An object schema with required and optional properties."""
    properties = {**(required or {}), **(optional or {})}
    return {"type": "object", "properties": properties, "required": list(required or {})}


def s_str(
    *, nullable: bool = False, enum: tuple[str, ...] | None = None, **kw: Any
) -> dict[str, Any]:
    """A string property."""
    schema: dict[str, Any] = {"type": "string", **kw}
    if enum is not None:
        schema["enum"] = list(enum)
    if nullable:
        schema["nullable"] = True
    return schema


def s_int(*, nullable: bool = False, **kw: Any) -> dict[str, Any]:
    """An integer property."""
    return {"type": "integer", **kw, **({"nullable": True} if nullable else {})}


def s_bool(*, nullable: bool = False) -> dict[str, Any]:
    """A boolean property."""
    return {"type": "boolean", **({"nullable": True} if nullable else {})}


def s_array(items: dict[str, Any], *, nullable: bool = False, **kw: Any) -> dict[str, Any]:
    """An array property."""
    return {"type": "array", "items": items, **kw, **({"nullable": True} if nullable else {})}
