"""The spec's own example responses, parsed with the official SDK's types.

Each operation's `x-oaiMeta` example response that is valid JSON is served for that operation's
request (set-up requests go to the simulator), and the SDK parses it with strict validation.
Examples that break the SDK's types are known spec quirks, listed with the reason.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.contract.calls import CALLS
from tests.contract.spec_tools import Operation, find_operation, operations
from tests.simulator.support import make_app, make_client, scenario_ids


def _example(op: Operation) -> str | None:
    examples = op.definition.get("x-oaiMeta", {}).get("examples")
    if isinstance(examples, list):
        examples = examples[0]
    return (examples or {}).get("response")


def _parses(text: str | None) -> bool:
    try:
        json.loads(text or "")
    except ValueError:
        return False
    return True


WITH_EXAMPLES = [op for op in operations() if _parses(_example(op))]
# Examples that leave out a field the SDK's types require (the spec's schema requires them too).
KNOWN_BAD = {
    "list-groups": "the GroupListResource example lacks `group_type`",
    "create-group": "the GroupResponse example lacks `group_type`",
    "list-project-groups": "the ProjectGroupListResource example lacks `group_type`",
    "add-project-group": "the ProjectGroup example lacks `group_type`",
    "list-invites": "the Invite example lacks `projects`",
    "retrieve-invite": "the Invite example lacks `projects`",
}
CASES = [
    pytest.param(
        op,
        id=op.operation_id,
        marks=[pytest.mark.xfail(reason=KNOWN_BAD[op.operation_id], strict=True)]
        if op.operation_id in KNOWN_BAD
        else [],
    )
    for op in WITH_EXAMPLES
]


class _ExampleTransport(httpx.BaseTransport):
    """Serves the example for one operation and forwards set-up requests to the simulator."""

    def __init__(self, op: Operation, inner: httpx.BaseTransport) -> None:
        self.op = op
        self.inner = inner
        self.served = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if find_operation(request) == self.op:
            self.served += 1
            return httpx.Response(200, content=_example(self.op).encode(), request=request)
        return self.inner.handle_request(request)


def test_it_finds_most_examples_parseable() -> None:
    assert len(WITH_EXAMPLES) == 98  # 8 examples in the spec are not valid JSON (trailing commas)


@pytest.mark.parametrize("op", CASES)
def test_it_parses_the_spec_example_with_the_sdk_types(op: Operation) -> None:
    app = make_app()
    transport = _ExampleTransport(op, httpx.WSGITransport(app=app))
    client = make_client(transport)
    CALLS[op.operation_id](client.admin.organization, scenario_ids(app))
    assert transport.served >= 1
