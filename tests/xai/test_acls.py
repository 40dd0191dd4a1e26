"""xAI's ACL strings: read and written back, offered in the picker, and a management key's ACLs
turned into what the dashboard hides or greys out."""

from __future__ import annotations

import pytest

from orgadmin.xai.acls import (
    acl_choices,
    areas_of_management_key,
    describe_acl,
    format_acl,
    parse_acl,
)
from orgadmin.xai.types import EndpointAcl, TeamModel


@pytest.mark.parametrize(
    ("text", "parsed", "words"),
    [
        ("api-key:model:grok-4", ("model", "grok-4"), "Model grok-4"),
        ("api-key:model:*", ("model", "*"), "All models"),
        ("api-key:endpoint:chat", ("endpoint", "chat"), "Endpoint chat"),
        ("api-key:endpoint:*", ("endpoint", "*"), "All endpoints"),
        (" api-key:model:grok-4-fast-reasoning ", ("model", "grok-4-fast-reasoning"), None),
    ],
)
def test_it_reads_and_writes_back_an_api_key_acl(text, parsed, words):
    assert parse_acl(text) == parsed
    assert format_acl(*parsed) == text.strip()
    if words:
        assert describe_acl(text) == words


@pytest.mark.parametrize("text", ["api-key:team:*", "something-new", "api-key:model:", ""])
def test_it_keeps_an_acl_it_does_not_know_as_it_is(text):
    assert parse_acl(text) == ("", text)
    assert format_acl(*parse_acl(text)) == text
    assert describe_acl(text) == text


def test_it_refuses_to_write_an_acl_that_would_read_back_differently():
    with pytest.raises(ValueError, match="not an API key ACL"):
        format_acl("model", "a:b")
    with pytest.raises(ValueError, match="not an API key ACL"):
        format_acl("team", "x")


def test_it_offers_every_endpoint_and_model_once_with_all_first():
    endpoints = [
        EndpointAcl(acl="api-key:endpoint:chat", description="Chat completions", value="chat"),
        EndpointAcl(acl="api-key:endpoint:image", value="image"),
        EndpointAcl(acl="api-key:endpoint:*", description="Every endpoint"),
        EndpointAcl(acl="api-key:model:grok-4", description="Grok 4", value="grok-4"),
        EndpointAcl(acl="", key="endpoint", value="tokenize"),
    ]
    models = [TeamModel(name="grok-4"), TeamModel(name="grok-3-mini"), TeamModel(name="")]
    assert acl_choices(endpoints, models) == [
        (
            "Endpoints",
            [
                ("api-key:endpoint:*", "All endpoints"),
                ("api-key:endpoint:chat", "chat: Chat completions"),
                ("api-key:endpoint:image", "image"),
                ("api-key:endpoint:tokenize", "tokenize"),
            ],
        ),
        (
            "Models",
            [
                ("api-key:model:*", "All models"),
                ("api-key:model:grok-4", "grok-4: Grok 4"),
                ("api-key:model:grok-3-mini", "grok-3-mini"),
            ],
        ),
    ]


def test_it_offers_the_all_choices_when_the_team_lists_nothing():
    assert acl_choices([], []) == [
        ("Endpoints", [("api-key:endpoint:*", "All endpoints")]),
        ("Models", [("api-key:model:*", "All models")]),
    ]


@pytest.mark.parametrize(
    ("acls", "limits"),
    [
        (["management-api:*"], {}),
        ([], {}),
        (["billing:read-only"], {}),  # a form not known: the API's own refusals will tell
        (["management-api:teams:read"], {}),
        (
            ["management-api:billing:read"],
            {"keys": "none", "billing": "read", "audit_log": "none"},
        ),
        (
            ["management-api:api-keys:read", "management-api:audit:read"],
            {"keys": "read", "billing": "none", "costs": "none"},
        ),
        (
            ["management-api:api-keys:write", "management-api:billing:*"],
            {"audit_log": "none"},
        ),
        (
            [
                "management-api:api-keys:read",
                "management-api:api-keys:write",
                "Management-API:Billing:Read",
                "management-api:audit:read",
            ],
            {"billing": "read"},
        ),
        (["management-api:billing:read", "management-api:*"], {}),
    ],
)
def test_it_maps_a_management_keys_acls_to_what_the_dashboard_may_do(acls, limits):
    assert areas_of_management_key(acls) == limits
