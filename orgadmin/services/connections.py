"""Connections: verify, store, rename, re-key and remove them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from orgadmin import crypto
from orgadmin.client import OrgAPIError, admin_client, api_errors, base_url_check, request_id_of
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.key_areas import (
    key_areas_forget,
    key_areas_learn,
    key_areas_probe,
    key_areas_replace,
)
from orgadmin.services.teams import team_of_key
from orgadmin.xai.acls import areas_of_management_key
from orgadmin.xai.client import xai_client
from orgadmin.xai.types import ManagementKey


def _probe(org: Organization) -> str:
    """Make one cheap authenticated call; return its request id or raise OrgAPIError."""
    if org.provider == Organization.Provider.XAI:
        return _probe_team(org)
    return _probe_organization(org)


def _probe_team(org: Organization) -> str:
    """Ask xAI what the management key is: the team it manages becomes the connection's
    `account_id`. A key scoped to a whole xAI organization names no team, and is refused."""
    return _validate_team(org)[1]


def _validate_team(org: Organization) -> tuple[ManagementKey, str]:
    """The management key as xAI describes it, and the request id; sets `account_id`."""
    with xai_client(org) as client:
        key = client.validate_key()
        request_id = client.last_request_id
    org.account_id = team_of_key(key, request_id=request_id)
    return key, request_id


def _team_areas(org: Organization, key: ManagementKey, request_id: str) -> None:
    """What the management key may do is in its own ACLs: no probe needed."""
    key_areas_replace(
        org=org,
        limits=areas_of_management_key(key.acls),
        message=f"The management key's ACLs: {', '.join(key.acls) or 'none'}.",
        request_id=request_id,
    )


def _learn_team_areas(org: Organization) -> None:
    """`_team_areas` for a stored connection whose key was just accepted."""
    try:
        key, request_id = _validate_team(org)
    except OrgAPIError:
        return  # the syncs and refused changes learn the same later
    _team_areas(org, key, request_id)


def _learn_areas(org: Organization) -> None:
    if org.provider == Organization.Provider.XAI:
        _learn_team_areas(org)
    else:
        key_areas_learn(org=org)


def _check(org: Organization, *, areas: bool) -> str:
    """The key's check; with `areas`, and what it may do area by area."""
    if not areas:
        return _probe(org)
    if org.provider == Organization.Provider.XAI:
        key, request_id = _validate_team(org)  # one request: the key and its ACLs
        _team_areas(org, key, request_id)
        return request_id
    return key_areas_probe(org=org)


def _probe_organization(org: Organization) -> str:
    """One cheap authenticated call to the OpenAI Admin API.

    A refusal for permissions proves the key too: the API knows it, and only this area is
    closed to it (a restricted admin key). What it may do is learnt per area (key_areas)."""
    client = admin_client(org, max_retries=1)
    try:
        with api_errors():
            page = client.projects.list(limit=1)
    except OrgAPIError as exc:
        if exc.permission_denied:
            return exc.request_id or ""
        raise
    return request_id_of(page)


@sensitive_variables("admin_key", "candidate")
def connection_create(
    *,
    name: str,
    base_url: str,
    admin_key: str,
    actor: Any,
    provider: str = Organization.Provider.OPENAI,
) -> Organization:
    """Verify a new connection against the API and store it only if the API accepts the key;
    then ask what the key may read and change, area by area (`key_areas_learn`).

    Raises `BaseURLRefused` for a base URL no connection may use, before anything is sent.
    """
    org = Organization(
        name=name, provider=provider, base_url=base_url_check(base_url), added_by=actor
    )
    org.set_admin_key(admin_key)
    try:
        request_id = _probe(org)
    except OrgAPIError as exc:
        action_record(
            actor=actor,
            org=None,
            action="connection.create",
            summary=f"Tried to add the connection “{name}”",
            resource_type="connection",
            error=exc,
        )
        raise
    org.status = Organization.Status.OK
    org.last_verified_at = timezone.now()
    org.status_request_id = request_id
    with transaction.atomic():
        org.save()
        action_record(
            actor=actor,
            org=org,
            action="connection.create",
            summary=f"Added the connection “{name}”",
            resource_type="connection",
            resource_id=str(org.pk),
            request_id=request_id,
        )
    _learn_areas(org)
    return org


def connection_verify(*, org: Organization, actor: Any = None, areas: bool = False) -> Organization:
    """Call the API with the stored key and record whether it works.

    With `areas` ("Check again"), also ask once per area what the key may read and change
    (`key_areas_probe`; the probes are no action of the person's: only the check is recorded)."""
    error: OrgAPIError | None = None
    request_id = ""
    if not org.key_readable:
        org.status = Organization.Status.KEY_UNREADABLE
        org.status_message = "The stored key can't be decrypted any more. Re-enter the key."
        org.status_request_id = ""
    else:
        try:
            request_id = _check(org, areas=areas)
        except OrgAPIError as exc:
            error = exc
            org.status = Organization.Status.ERROR
            org.status_message = exc.message
            org.status_request_id = exc.request_id or ""
        else:
            org.status = Organization.Status.OK
            org.status_message = ""
            org.status_request_id = request_id
    org.last_verified_at = timezone.now()
    org.save(
        update_fields=[
            "status",
            "status_message",
            "status_request_id",
            "last_verified_at",
            "account_id",
        ]
    )
    if actor is not None:
        action_record(
            actor=actor,
            org=org,
            action="connection.verify",
            summary=f"Verified the connection “{org.name}”",
            resource_type="connection",
            resource_id=str(org.pk),
            request_id=request_id,
            error=error,
        )
    return org


def connection_rename(*, org: Organization, name: str, actor: Any) -> Organization:
    """Change a connection's display name."""
    old = org.name
    org.name = name
    with transaction.atomic():
        org.save(update_fields=["name"])
        action_record(
            actor=actor,
            org=org,
            action="connection.rename",
            summary=f"Renamed the connection “{old}” to “{name}”",
            resource_type="connection",
            resource_id=str(org.pk),
        )
    return org


@sensitive_variables("admin_key", "candidate")
def connection_set_key(*, org: Organization, admin_key: str, actor: Any) -> Organization:
    """Replace a connection's key, after the API has accepted the new one; then ask what the new
    key may read and change, area by area (`key_areas_learn`)."""
    candidate = Organization(name=org.name, provider=org.provider, base_url=org.base_url)
    candidate.set_admin_key(admin_key)
    try:
        request_id = _probe(candidate)
    except OrgAPIError as exc:
        action_record(
            actor=actor,
            org=org,
            action="connection.set_key",
            summary=f"Tried to replace the key of “{org.name}”",
            resource_type="connection",
            resource_id=str(org.pk),
            error=exc,
        )
        raise
    key_areas_forget(org=org)  # what the old key was refused says nothing of the new one
    org.admin_key_encrypted = candidate.admin_key_encrypted
    org.admin_key_masked = candidate.admin_key_masked
    org.account_id = candidate.account_id
    org.status = Organization.Status.OK
    org.status_message = ""
    org.status_request_id = request_id
    org.last_verified_at = timezone.now()
    with transaction.atomic():
        org.save()
        action_record(
            actor=actor,
            org=org,
            action="connection.set_key",
            summary=f"Replaced the admin key of “{org.name}” ({org.admin_key_masked})",
            resource_type="connection",
            resource_id=str(org.pk),
            request_id=request_id,
        )
    _learn_areas(org)
    return org


def connection_delete(*, org: Organization, actor: Any) -> None:
    """Remove a connection and everything synced from it (nothing changes at OpenAI)."""
    name, pk = org.name, org.pk
    with transaction.atomic():
        org.delete()
        action_record(
            actor=actor,
            org=None,
            action="connection.delete",
            summary=f"Removed the connection “{name}”",
            resource_type="connection",
            resource_id=str(pk),
        )


@sensitive_variables("admin_key", "candidate")
def connection_register(
    *,
    name: str,
    base_url: str,
    admin_key: str,
    provider: str = Organization.Provider.OPENAI,
) -> tuple[Organization, bool]:
    """Create or update a connection by name without calling the API (for `org_add`).

    Raises `BaseURLRefused` for a base URL no connection may use.
    """
    base_url = base_url_check(base_url)
    org = Organization.objects.filter(name=name).first()
    created = org is None
    if org is None:
        org = Organization(name=name)
    org.provider = provider
    org.base_url = base_url
    org.set_admin_key(admin_key)
    org.status = Organization.Status.UNVERIFIED
    org.save()
    if not created:
        key_areas_forget(org=org)  # perhaps another key: the syncs learn what it may do
    return org, created


def keys_rotate() -> int:
    """Re-encrypt every stored admin key under the newest encryption key; return how many."""
    count = 0
    for org in Organization.objects.all():
        if crypto.needs_rotation(org.admin_key_encrypted):
            try:
                org.admin_key_encrypted = crypto.rotate(org.admin_key_encrypted)
            except crypto.InvalidToken:
                continue  # unreadable with every key: it has to be re-entered
            org.save(update_fields=["admin_key_encrypted"])
            count += 1
    return count
