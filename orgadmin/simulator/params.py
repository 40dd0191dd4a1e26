"""Query-parameter declarations and parsing, and a small JSON-body validator.

Each route declares its query parameters with the spec's names, defaults, limits and enums.
The contract tests compare these declarations with the spec, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from orgadmin.simulator.errors import ApiError, invalid

_OBJECT_KEY = re.compile(r"^([A-Za-z0-9_]+)\[([A-Za-z0-9_]+)\]$")
_INT = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class Param:
    """One query parameter of one operation."""

    name: str  # base name, without brackets
    kind: str  # "int" | "str" | "bool" | "enum" | "array" | "object"
    required: bool = False
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] | None = None  # enum values, or the items' enum for arrays
    keys: tuple[str, ...] = ()  # an object's integer keys, e.g. gt/gte/lt/lte
    spec_name: str | None = None  # the spec's name when it differs, e.g. "project_ids[]"


def q_int(
    name: str,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = False,
) -> Param:
    """An integer parameter."""
    return Param(name, "int", required, default, minimum, maximum)


def q_str(name: str, *, required: bool = False) -> Param:
    """A free string parameter (ids, cursors)."""
    return Param(name, "str", required)


def q_bool(name: str, *, default: bool | None = None) -> Param:
    """A boolean parameter, sent as `true` or `false`."""
    return Param(name, "bool", default=default)


def q_enum(name: str, values: tuple[str, ...], *, default: str | None = None) -> Param:
    """A string parameter restricted to `values`."""
    return Param(name, "enum", default=default, enum=values)


def q_array(name: str, *, enum: tuple[str, ...] | None = None, brackets: bool = False) -> Param:
    """An array parameter; `brackets` when the spec itself names it `name[]`."""
    return Param(name, "array", enum=enum, spec_name=f"{name}[]" if brackets else None)


def q_object(name: str, keys: tuple[str, ...]) -> Param:
    """An object parameter with integer members, sent as `name[key]=value`."""
    return Param(name, "object", keys=keys)


LIMIT_1_100 = q_int("limit", default=20, minimum=1, maximum=100)
AFTER = q_str("after")
BEFORE = q_str("before")
ORDER_ASC = q_enum("order", ("asc", "desc"), default="asc")
ORDER_DESC = q_enum("order", ("asc", "desc"), default="desc")


def parse_query(pairs: list[tuple[str, str]], params: tuple[Param, ...]) -> dict[str, Any]:
    """Parse raw query pairs against the declarations; raise a 400 naming any bad parameter.

    Arrays are accepted as `name=a&name=b`, `name[]=a&name[]=b` and `name=a,b`; objects as
    `name[key]=value`. Unknown parameters are rejected.
    """
    by_name = {p.name: p for p in params}
    values: dict[str, Any] = {}
    for key, raw in pairs:
        match = _OBJECT_KEY.match(key)
        if key.endswith("[]"):
            name = key[:-2]
            param = by_name.get(name)
            if param is None or param.kind != "array":
                raise _unknown(key)
            values.setdefault(name, []).extend(_split(raw))
        elif match:
            name, member = match.groups()
            param = by_name.get(name)
            if param is None or param.kind != "object":
                raise _unknown(key)
            if member not in param.keys:
                raise _unknown(key)
            values.setdefault(name, {})[member] = _parse_int(key, raw, None, None)
        else:
            param = by_name.get(key)
            if param is None:
                raise _unknown(key)
            if param.kind == "array":
                values.setdefault(key, []).extend(_split(raw))
            elif param.kind == "object":
                raise invalid(key, f"Invalid value for '{key}': expected an object.")
            else:
                values[key] = _parse_scalar(param, raw)
    for param in params:
        if param.name in values:
            if param.kind == "array" and param.enum is not None:
                for item in values[param.name]:
                    if item not in param.enum:
                        raise invalid(
                            param.name,
                            f"Invalid value for '{param.name}': '{item}'. "
                            f"Supported values are: {_quoted(param.enum)}.",
                        )
            continue
        if param.required:
            raise ApiError(
                400,
                f"Missing required parameter: '{param.name}'.",
                param=param.name,
                code="missing_required_parameter",
            )
        values[param.name] = param.default
    return values


def _unknown(key: str) -> ApiError:
    return ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")


def _split(raw: str) -> list[str]:
    # An empty part is a value too: `group_by=` is refused by the enum check, and `project_ids=`
    # filters on an id that matches nothing, rather than quietly meaning "no filter".
    return raw.split(",")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _parse_int(name: str, raw: str, minimum: int | None, maximum: int | None) -> int:
    if not _INT.match(raw.strip()):
        raise invalid(
            name,
            f"Invalid type for '{name}': expected an integer, but got '{raw}'.",
            code="invalid_type",
        )
    value = int(raw)
    if minimum is not None and value < minimum:
        raise invalid(name, _range_message(name, value, minimum, maximum))
    if maximum is not None and value > maximum:
        raise invalid(name, _range_message(name, value, minimum, maximum))
    return value


def _range_message(name: str, value: int, minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"Invalid '{name}': {value}. It must be between {minimum} and {maximum}."
    if minimum is not None:
        return f"Invalid '{name}': {value}. It must be at least {minimum}."
    return f"Invalid '{name}': {value}. It must be at most {maximum}."


def _parse_scalar(param: Param, raw: str) -> Any:
    if param.kind == "int":
        return _parse_int(param.name, raw, param.minimum, param.maximum)
    if param.kind == "bool":
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise invalid(
            param.name,
            f"Invalid type for '{param.name}': expected a boolean, but got '{raw}'.",
            code="invalid_type",
        )
    if param.kind == "enum":
        assert param.enum is not None
        if raw not in param.enum:
            raise invalid(
                param.name,
                f"Invalid value for '{param.name}': '{raw}'. "
                f"Supported values are: {_quoted(param.enum)}.",
            )
        return raw
    if raw == "":
        raise invalid(param.name, f"Invalid value for '{param.name}': empty string.")
    return raw


# --- JSON bodies -------------------------------------------------------------------------------
#
# Body schemas are a small dialect of JSON Schema: `type`, `nullable`, `enum`, `minimum`,
# `maximum`, `minLength`, `maxLength`, `items`, `minItems`, `maxItems`, `properties`, `required`.
# Unknown fields are rejected, as the real API does.


def validate_body(body: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Check a parsed JSON body against `schema`; raise a 400 naming the first bad field."""
    if not isinstance(body, dict):
        raise invalid("body", "The request body must be a JSON object.", code="invalid_type")
    _check_object(body, schema, prefix="")
    return body


def _check_object(value: dict[str, Any], schema: dict[str, Any], prefix: str) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for key in value:
        if key not in properties:
            name = f"{prefix}{key}"
            raise ApiError(
                400,
                f"Unrecognized request argument supplied: {name}",
                param=name,
                code="unknown_parameter",
            )
    for key in schema.get("required", ()):
        if key not in value:
            name = f"{prefix}{key}"
            raise ApiError(
                400,
                f"Missing required parameter: '{name}'.",
                param=name,
                code="missing_required_parameter",
            )
    for key, item in value.items():
        _check_value(item, properties[key], f"{prefix}{key}")


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_value(value: Any, schema: dict[str, Any], name: str) -> None:
    if value is None:
        if schema.get("nullable"):
            return
        raise invalid(name, f"Invalid type for '{name}': expected a value, but got null.")
    expected = schema["type"]
    ok = isinstance(value, _TYPES[expected])
    if expected in ("integer", "number") and isinstance(value, bool):
        ok = False
    if not ok:
        raise invalid(
            name,
            f"Invalid type for '{name}': expected {_article(expected)}, "
            f"but got {_json_type(value)}.",
            code="invalid_type",
        )
    if "enum" in schema and value not in schema["enum"]:
        raise invalid(
            name,
            f"Invalid value for '{name}': '{value}'. "
            f"Supported values are: {_quoted(tuple(schema['enum']))}.",
        )
    if "minimum" in schema and value < schema["minimum"]:
        raise invalid(name, f"Invalid '{name}': {value}. It must be at least {schema['minimum']}.")
    if "maximum" in schema and value > schema["maximum"]:
        raise invalid(name, f"Invalid '{name}': {value}. It must be at most {schema['maximum']}.")
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise invalid(name, f"Invalid '{name}': string too short.")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise invalid(name, f"Invalid '{name}': string too long.")
    if expected == "array":
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise invalid(name, f"Invalid '{name}': expected at least {schema['minItems']} items.")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise invalid(name, f"Invalid '{name}': expected at most {schema['maxItems']} items.")
        for index, item in enumerate(value):
            _check_value(item, schema["items"], f"{name}[{index}]")
    if expected == "object" and "properties" in schema:
        _check_object(value, schema, prefix=f"{name}.")


def _article(type_name: str) -> str:
    return {"integer": "an integer", "array": "an array", "object": "an object"}.get(
        type_name, f"a {type_name}"
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
