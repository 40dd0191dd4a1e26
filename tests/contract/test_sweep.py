"""Every object the demo scenario holds, listed through every list endpoint, is valid for the spec.

The per-operation contract tests see one page each; this walks everything (every user, key,
project setting and audit event), so a rare shape in the seeded data cannot hide.
"""

from __future__ import annotations

import json

import httpx

from tests.contract.spec_tools import find_operation, schema_errors, unknown_fields
from tests.simulator.support import Recorder, make_app, make_client


def test_it_serves_only_spec_valid_objects_across_the_whole_demo() -> None:
    app = make_app()
    recorder = Recorder(app)
    org = make_client(recorder).admin.organization
    for _ in org.users.list(limit=100):
        pass
    for user in app.store.users:
        list(org.users.roles.list(user))
    list(org.invites.list(limit=100))
    list(org.admin_api_keys.list(limit=100))
    list(org.certificates.list(limit=100))
    list(org.roles.list())
    list(org.spend_alerts.list(limit=100))
    org.spend_limit.retrieve()
    org.data_retention.retrieve()
    for group in org.groups.list():
        list(org.groups.users.list(group.id))
        list(org.groups.roles.list(group.id))
    for project in org.projects.list(include_archived=True, limit=100):
        pid = project.id
        list(org.projects.api_keys.list(pid, owner_project_access="any", limit=100))
        list(org.projects.rate_limits.list_rate_limits(pid))
        list(org.projects.certificates.list(pid, limit=100))
        list(org.projects.groups.list(pid, limit=100))
        list(org.projects.spend_alerts.list(pid, limit=100))
        org.projects.model_permissions.retrieve(pid)
        org.projects.hosted_tool_permissions.retrieve(pid)
        org.projects.data_retention.retrieve(pid)
        if project.status == "active":
            list(org.projects.users.list(pid, limit=100))
            list(org.projects.service_accounts.list(pid, limit=100))
    list(org.audit_logs.list(limit=100))
    list(org.audit_logs.list(limit=100, tenant_only=True))

    checked = 0
    for request, response in recorder.exchanges:
        if response.status_code == 404:  # a project without a spend limit, say
            continue
        op = find_operation(request)
        assert op is not None, request.url
        assert response.status_code == 200, (request.url, response.text)
        body = json.loads(response.content)
        assert schema_errors(body, op.response_schema()) == [], request.url
        assert unknown_fields(body, op.response_schema()) == [], request.url
        checked += 1
    assert checked > 150


def test_it_answers_every_list_with_a_request_id() -> None:
    app = make_app()
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://x/v1")
    assert http.get("/organization/users").headers["x-request-id"].startswith("req_")
