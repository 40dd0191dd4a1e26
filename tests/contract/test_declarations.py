"""The simulator's route declarations agree with the spec: paths, methods, parameter names,
defaults, limits and enums, and request-body fields."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orgadmin.simulator.app import SimulatorApp  # noqa: F401 - importing registers the routes
from orgadmin.simulator.routing import ROUTES, Route
from orgadmin.simulator.usage.families import COST_LIMIT, LIMITS
from tests.contract.spec_tools import Operation, operations, resolve

BY_ID = {r.operation_id: r for r in ROUTES}


def test_it_declares_exactly_the_spec_operations() -> None:
    spec = {(op.method, op.path, op.operation_id) for op in operations()}
    declared = {(r.method, r.template, r.operation_id) for r in ROUTES}
    assert declared == spec
    assert len(ROUTES) == 106


@pytest.mark.parametrize("op", operations(), ids=lambda op: op.operation_id)
def test_it_declares_the_spec_query_parameters(op: Operation) -> None:
    route = BY_ID[op.operation_id]
    spec_params = {p["name"]: p for p in op.parameters() if p["in"] == "query"}
    declared = {(p.spec_name or p.name): p for p in route.query}
    assert set(declared) == set(spec_params)
    for name, spec_param in spec_params.items():
        param = declared[name]
        schema = resolve(spec_param["schema"])
        assert param.required == bool(spec_param.get("required")), name
        if "default" in schema:
            assert param.default == schema["default"], name
        enum = schema.get("enum") or resolve(schema.get("items", {})).get("enum")
        if enum is not None:
            assert param.enum == tuple(enum), name
        kind = {"integer": "int", "boolean": "bool", "array": "array", "object": "object"}
        expected = kind.get(schema.get("type", ""), "enum" if enum else "str")
        assert param.kind == expected, name
        if "minimum" in schema:
            assert param.minimum == schema["minimum"], name
        if "maximum" in schema:
            assert param.maximum == schema["maximum"], name
        _check_description_range(param, spec_param.get("description") or "", route)


def _check_description_range(param: Any, description: str, route: Route) -> None:
    """Where only the description gives the range or default, the simulator enforces it."""
    found = re.search(r"range between (\d+) and (\d+)", description)
    if found and param.name == "limit":
        assert (param.minimum, param.maximum) == (int(found[1]), int(found[2]))
    default = re.search(r"[Dd]efaults? (?:is|to) (\d+)", description)
    if default and param.name == "limit":
        assert param.default == int(default[1])
    if param.name == "limit" and "bucket_width=1d" in description:
        for width, (dflt, top) in LIMITS.items():
            assert f"`bucket_width={width}`: default: {dflt}, max: {top}" in description
    if param.name == "limit" and route.operation_id == "usage-costs":
        assert (param.minimum, param.maximum, param.default) == (1, *COST_LIMIT[::-1])


def _normalise(schema: dict[str, Any]) -> dict[str, Any]:
    """A spec schema in the simulator's body dialect (`nullable` instead of anyOf-null)."""
    schema = resolve(schema)
    nullable = False
    if "anyOf" in schema:
        options = [resolve(o) for o in schema["anyOf"]]
        nullable = any(o.get("type") == "null" for o in options)
        schema = next(o for o in options if o.get("type") != "null")
    out: dict[str, Any] = {"type": schema.get("type", "string")}
    for key in ("enum", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        if key in schema:
            out[key] = schema[key]
    if nullable:
        out["nullable"] = True
    if "items" in schema:
        out["items"] = _normalise(schema["items"])
    if "properties" in schema:
        out["properties"] = {k: _normalise(v) for k, v in schema["properties"].items()}
        out["required"] = sorted(schema.get("required", []))
    return out


def _declared(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k not in ("properties", "required", "items")}
    if "items" in schema:
        out["items"] = _declared(schema["items"])
    if "properties" in schema:
        out["properties"] = {k: _declared(v) for k, v in schema["properties"].items()}
        out["required"] = sorted(schema.get("required", []))
    return out


@pytest.mark.parametrize("op", operations(), ids=lambda op: op.operation_id)
def test_it_declares_the_spec_request_body(op: Operation) -> None:
    route = BY_ID[op.operation_id]
    spec_schema = op.request_schema()
    if spec_schema is None:
        assert route.body is None
        return
    assert route.body is not None
    assert _declared(route.body) == _normalise(spec_schema)
