"""Schemathesis over every operation of the vendored spec, against the in-process simulator.

Schemathesis generates requests from the spec (its examples, boundary values of every parameter,
then random valid and invalid data) and checks each answer: no server error, a documented status
code, the documented content type, a body valid against the documented schema, invalid data
refused, and authentication enforced. The spec is silent or wrong in a few places; each is
declared below, narrowly, in `_declared_spec()` (and listed in orgadmin/simulator/README.md).
The home-grown tests in this folder check what schemathesis cannot: the SDK's parsing, the
request the SDK sends, and every object of the scenario.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok

from orgadmin.simulator import SimulatorApp
from tests.contract.spec_tools import METHODS, operations, resolve, spec
from tests.simulator.support import DAY, KEY, NOW, make_app, scenario_ids

# Fuzzed examples per operation, on top of the spec's examples and the coverage phase's boundary
# values (about 40 per operation): about 6,700 requests, 40-50 s on a quiet 2-core machine.
MAX_EXAMPLES = 25
ERROR = {
    "description": "An error (declared by tests/contract/test_schemathesis.py).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def _declared_spec() -> dict[str, Any]:
    """The vendored spec plus what it leaves unsaid about the API (the file stays unchanged)."""
    raw = copy.deepcopy(spec())
    schemas = raw["components"]["schemas"]
    for item in raw["paths"].values():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            locations = {p["in"] for p in op.get("parameters", [])}
            responses = op["responses"]
            # Quirk 1: an operation with query parameters or a body answers a bad one with a 400
            # ErrorResponse; the spec documents that for 9 of the 67.
            if "query" in locations or "requestBody" in op:
                responses.setdefault("400", ERROR)
            # Quirk 2: an operation that names a resource (in its path, or by id in its body)
            # answers a 404 ErrorResponse when it does not exist; the spec documents no 404.
            if "path" in locations or _names_by_id_in_body(op):
                responses.setdefault("404", ERROR)
            # Quirk 3: the API refuses a body field it does not know ("Unrecognized request
            # argument supplied"), but no request schema says `additionalProperties: false`.
            # Declared, schemathesis sends only known fields in valid requests (so they reach
            # the handler) and unknown ones in invalid requests (which must be refused). Top
            # level only: no response uses these schemas, but it does use nested ones.
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                ref = body["schema"].get("$ref", "")
                target = schemas[ref.rsplit("/", 1)[1]] if ref else body["schema"]
                target.setdefault("additionalProperties", False)
    # Quirk 2 again: the organization's spend limit is a singleton; deleting it a second time
    # finds none, a 404.
    raw["paths"]["/organization/spend_limit"]["delete"]["responses"].setdefault("404", ERROR)
    # Quirk 4: usage and cost buckets hold a `oneOf` of result types with a discriminator on
    # `object` but no `mapping`, which per OpenAPI means `object` holds the schema's name
    # ("UsageCompletionsResult"). It holds "organization.usage.completions.result": map it.
    results = schemas["UsageTimeBucket"]["properties"]["results"]["items"]
    results["discriminator"]["mapping"] = {
        schemas[ref["$ref"].rsplit("/", 1)[1]]["properties"]["object"]["enum"][0]: ref["$ref"]
        for ref in results["oneOf"]
    }
    return raw


def _names_by_id_in_body(op: dict[str, Any]) -> bool:
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    fields = resolve(body.get("schema", {})).get("properties", {})
    return any(name.endswith(("_id", "_ids")) or name == "projects" for name in fields)


class _Simulator:
    """The WSGI app schemathesis calls: the current test's fresh simulator.

    Schemathesis sends some checks' extra requests (`ignored_auth`) to the schema's app, not to
    the app a call was given, so the schema holds this one and each test sets what it forwards to.
    """

    app: SimulatorApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "use the `fresh_simulator` fixture"
        return self.app(environ, start_response)


SIMULATOR = _Simulator()
CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"openapi": {"AdminApiKeyAuth": {"bearer": KEY}}},
        # Valid and invalid requests. No invalid Authorization headers (a fourth of the invalid
        # requests otherwise): `ignored_auth` sends its own, without a key and with a wrong one.
        "generation": {"mode": "all", "with-security-parameters": False},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "negative_data_rejection": {"enabled": True},
            "ignored_auth": {"enabled": True},
            # Not `positive_data_acceptance`: valid data is refused with a 400 for what the
            # state forbids (an archived project, an accepted invite, ...) or the spec does not
            # say (a name must not be empty, an email must be one). Not `unsupported_method`:
            # the API answers a wrong method with a 404 `Invalid URL`, not a 405.
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(_declared_spec(), config=CONFIG)
SCHEMA.app = SIMULATOR


# --- real ids and times, so that valid requests reach a resource --------------------------------
# Random ids find nothing, and random times find no usage. In valid requests, an id in the path or
# body is swapped half the time for one of the scenario's (the same in every clone), and a usage
# or cost window's start or end for one near the simulator's "now" two times in three.

IDS = scenario_ids(make_app())
BODY_IDS = {
    "certificate_ids": [IDS.certificate],
    "group_id": IDS.group,
    "role_id": IDS.custom_role,
    "user_id": IDS.non_member,
}
WINDOW = {"start_time": [NOW - 3 * DAY, NOW - 45 * DAY], "end_time": [NOW]}


def _path_ids(path: str) -> dict[str, str]:
    in_project = "/projects/{project_id}" in path
    return {
        "alert_id": IDS.project_alert if in_project else IDS.alert,
        "api_key_id": IDS.key,
        "certificate_id": IDS.certificate,
        "group_id": IDS.group,
        "invite_id": IDS.invite,
        "key_id": IDS.admin_key,
        "project_id": IDS.project_alert_project if "{alert_id}" in path else IDS.project,
        "rate_limit_id": IDS.rate_limit,
        "role_id": IDS.custom_role,
        "service_account_id": IDS.service_account,
        "user_id": IDS.member if in_project or "/groups/" in path else IDS.user,
    }


def _swaps(case: schemathesis.Case) -> dict[tuple[str, str], list[Any]]:
    """Real values for the valid components of a case: (container, name) -> candidates."""

    def valid(location: ParameterLocation) -> bool:
        return case.meta is None or not case.meta.is_negative_at(location)

    found: dict[tuple[str, str], list[Any]] = {}
    if case.path_parameters and valid(ParameterLocation.PATH):
        real = _path_ids(case.operation.path)
        found.update({("path_parameters", name): [real[name]] for name in case.path_parameters})
    if isinstance(case.body, dict) and valid(ParameterLocation.BODY):
        found.update({("body", n): [BODY_IDS[n]] for n in case.body if n in BODY_IDS})
    path = case.operation.path
    if (
        case.query
        and valid(ParameterLocation.QUERY)
        and path.startswith(("/organization/usage/", "/organization/costs"))
    ):
        for name in set(case.query) & set(WINDOW):
            found[("query", name)] = WINDOW[name]
    return found


@SCHEMA.hook
def flatmap_case(context: Any, case: schemathesis.Case) -> st.SearchStrategy:
    swaps = _swaps(case)
    if not swaps:
        return st.just(case)

    def swap(picks: dict[tuple[str, str], Any]) -> schemathesis.Case:
        for (container, name), value in picks.items():
            if value is not None:
                # Assigning (not mutating) lets schemathesis re-check the case's validity.
                setattr(case, container, {**getattr(case, container), name: copy.deepcopy(value)})
        return case

    options = {key: st.sampled_from([None, *values]) for key, values in swaps.items()}
    return st.fixed_dictionaries(options).map(swap)


@pytest.fixture
def fresh_simulator() -> Iterator[SimulatorApp]:
    """A fresh clone of the demo scenario for each operation, so no test sees another's writes."""
    SIMULATOR.app = make_app()
    yield SIMULATOR.app
    SIMULATOR.app = None


def test_it_runs_every_operation_of_the_spec() -> None:
    """What `parametrize` makes a test of: all 106, none left out by a filter or a load error."""
    results = list(SCHEMA.get_all_operations())
    assert [r.err() for r in results if not isinstance(r, Ok)] == []
    assert len(results) == 106
    loaded = {r.ok().definition.raw["operationId"] for r in results}
    assert loaded == {op.operation_id for op in operations()}


@SCHEMA.parametrize()
@settings(
    # Pinned here, so that `HYPOTHESIS_PROFILE=ci` draws the same examples, as many, as fast.
    # The same code draws the same requests; Hypothesis also draws literals from the project's
    # source, so a code change can change them.
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # One simulator per operation, shared by its examples on purpose (a clone per example would
    # cost 20-50 ms each).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_answers_as_the_spec_says(
    case: schemathesis.Case, fresh_simulator: SimulatorApp
) -> None:
    case.call_and_validate()
