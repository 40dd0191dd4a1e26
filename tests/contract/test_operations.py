"""Every spec operation, called through the official SDK against the simulator.

For each operation the request the SDK sent is checked against the spec's parameters and
request body, and the raw response against the spec's 200 schema (plus a check that it carries
no field the schema does not declare). The SDK itself parses the response with strict
validation. The operation list comes from the vendored spec, so a new operation without a
contract test fails here.
"""

from __future__ import annotations

import json

import pytest

from tests.contract.calls import CALLS
from tests.contract.spec_tools import (
    Operation,
    find_operation,
    operations,
    request_problems,
    schema_errors,
    unknown_fields,
)
from tests.simulator.support import Recorder, make_app, make_client, scenario_ids

OPERATIONS = operations()


def test_it_covers_every_operation_of_the_spec() -> None:
    spec_ids = {op.operation_id for op in OPERATIONS}
    missing = sorted(spec_ids - set(CALLS))
    extra = sorted(set(CALLS) - spec_ids)
    assert not missing, f"operations without a contract test: {missing}"
    assert not extra, f"contract tests for operations not in the spec: {extra}"
    assert len(OPERATIONS) == 106
    print(f"\ncontract coverage: {len(spec_ids & set(CALLS))} of {len(spec_ids)} operations")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_it_serves_the_operation_as_the_spec_says(op: Operation) -> None:
    call = CALLS.get(op.operation_id)
    assert call is not None, f"no contract test for {op.operation_id} ({op.method} {op.path})"
    app = make_app()
    recorder = Recorder(app)
    client = make_client(recorder)
    call(client.admin.organization, scenario_ids(app))  # strict SDK parsing happens here

    request, response = recorder.exchanges[-1]
    assert find_operation(request) == op, f"last request was {request.method} {request.url}"
    assert request_problems(op, request) == []
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"].startswith("req_")
    body = json.loads(response.content)
    assert schema_errors(body, op.response_schema()) == []
    assert unknown_fields(body, op.response_schema()) == []
