"""Reading the vendored spec, and checking requests and responses against it."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("openai-admin-openapi.yaml")
BASE = "/v1"
METHODS = ("get", "post", "delete", "put", "patch")
# Fields the real API sends that the schema does not list (the spec's own examples show them).
ALLOWED_EXTRA = {("AuditLogActorSession", "user_agent")}


@functools.cache
def spec() -> dict[str, Any]:
    """The vendored spec, parsed once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open() as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader


@dataclass(frozen=True)
class Operation:
    """One operation of the spec."""

    operation_id: str
    method: str  # upper case
    path: str  # the spec's template, e.g. /organization/users/{user_id}
    definition: dict[str, Any]

    @property
    def regex(self) -> re.Pattern[str]:
        pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(BASE + self.path))
        return re.compile(f"^{pattern}$")

    def parameters(self) -> list[dict[str, Any]]:
        return [resolve(p) for p in self.definition.get("parameters", [])]

    def request_schema(self) -> dict[str, Any] | None:
        body = self.definition.get("requestBody")
        if body is None:
            return None
        return resolve(body)["content"]["application/json"]["schema"]

    def response_schema(self) -> dict[str, Any]:
        return self.definition["responses"]["200"]["content"]["application/json"]["schema"]


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation in the spec, in spec order."""
    found = []
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(Operation(op["operationId"], method.upper(), path, op))
    return tuple(found)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref`."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource("urn:spec", resource)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for a schema taken from the spec (its `$ref`s resolve)."""
    return _validator(json.dumps(schema, sort_keys=True))


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    rebased = json.loads(schema_json.replace('"#/components/', '"urn:spec#/components/'))
    return Draft202012Validator(rebased, registry=_registry())


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every way `instance` breaks `schema`, as readable strings."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator(schema).iter_errors(instance)
    ]


def unknown_fields(instance: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Fields the response carries that its schema does not declare (a typo detector)."""
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    schema = resolve(schema)
    problems: list[str] = []
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(resolve(part).get("properties", {}))
        return unknown_fields(instance, merged, where)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            for option in schema[key]:
                if not schema_errors(instance, option):
                    return unknown_fields(instance, option, where)
            return problems
    if isinstance(instance, dict) and "properties" in schema:
        properties = schema["properties"]
        for field, value in instance.items():
            if field not in properties:
                allowed = (name, field) in ALLOWED_EXTRA
                if not allowed and schema.get("additionalProperties") is not True:
                    problems.append(f"{where}/{field}")
                continue
            problems += unknown_fields(value, properties[field], f"{where}/{field}")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            problems += unknown_fields(item, schema["items"], f"{where}/{index}")
    return problems


def find_operation(request: httpx.Request) -> Operation | None:
    """The spec operation a request is for."""
    for op in operations():
        if op.method == request.method and op.regex.match(request.url.path):
            return op
    return None


def request_problems(op: Operation, request: httpx.Request) -> list[str]:
    """Ways a request breaks the operation's declared parameters and body."""
    problems: list[str] = []
    if not op.regex.match(request.url.path):
        problems.append(f"path {request.url.path} does not match {op.path}")
    declared = {p["name"]: p for p in op.parameters() if p["in"] == "query"}
    seen: set[str] = set()
    for key, value in parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True):
        param, item_schema = _match_query_key(declared, key)
        if param is None:
            problems.append(f"query parameter {key!r} is not in the spec")
            continue
        seen.add(param["name"])
        problems += [f"query {key}={value!r}: {e}" for e in _value_errors(value, item_schema)]
    for name, param in declared.items():
        if param.get("required") and name not in seen:
            problems.append(f"required query parameter {name!r} missing")
    schema = op.request_schema()
    content = request.content
    if schema is None:
        if content and content.strip() not in (b"", b"{}"):
            problems.append(f"a body was sent, but the operation takes none: {content[:80]!r}")
    elif content:
        problems += [f"body {e}" for e in schema_errors(json.loads(content), schema)]
    elif op.definition["requestBody"].get("required"):
        problems.append("the required body is missing")
    return problems


def _match_query_key(
    declared: dict[str, dict[str, Any]], key: str
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The declared parameter a serialised query key stands for, and its items' schema."""
    if key in declared:
        schema = declared[key]["schema"]
        return declared[key], schema["items"] if schema.get("type") == "array" else schema
    if key.endswith("[]") and key[:-2] in declared:
        schema = declared[key[:-2]]["schema"]
        if schema.get("type") == "array":
            return declared[key[:-2]], schema["items"]
    match = re.match(r"^([a-z_]+)\[([a-z_]+)\]$", key)
    if match and match.group(1) in declared:
        schema = declared[match.group(1)]["schema"]
        member = schema.get("properties", {}).get(match.group(2))
        if schema.get("type") == "object" and member is not None:
            return declared[match.group(1)], member
    return None, {}


def _value_errors(raw: str, schema: dict[str, Any]) -> list[str]:
    schema = resolve(schema)
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return ["not an integer"]
        value: Any = int(raw)
    elif kind == "boolean":
        if raw not in ("true", "false"):
            return ["not a boolean"]
        value = raw == "true"
    else:
        value = raw
    return schema_errors(value, schema)
