"""An xAI team's connection: the team its management key manages.

`team_id(org)` is what every xAI page, change and sync starts from. The team id comes from the
key's own validation endpoint (`GET /auth/management-keys/validation`, `scopeId`) when the
connection is added or checked; a connection registered without a call (`org_add` without
`--verify`, the demo's) learns it on first use here.
"""

from __future__ import annotations

from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.xai.client import xai_client
from orgadmin.xai.types import ManagementKey


def team_id(org: Organization) -> str:
    """The xAI team id of a connection, asked of the API once and kept; OrgAPIError when the
    key is refused or manages no single team."""
    if org.account_id:
        return org.account_id
    with xai_client(org) as client:
        key = client.validate_key()
        request_id = client.last_request_id
    org.account_id = team_of_key(key, request_id=request_id)
    Organization.objects.filter(pk=org.pk).update(account_id=org.account_id)
    return org.account_id


def team_of_key(key: ManagementKey, *, request_id: str = "") -> str:
    """The team a validated management key manages; OrgAPIError for a key of a whole xAI
    organization, which names no team."""
    if key.scope != "SCOPE_TEAM" or not key.scope_id:
        raise OrgAPIError(
            "This management key is not scoped to one team: create a team management key in "
            "the xAI console (Settings → Management Keys) and use that.",
            code="key_scope",
            request_id=request_id or None,
        )
    return key.scope_id
