"""Connections whose admin key is restricted, as OpenAI's "Read only" and "Restricted" admin keys
are (the simulator answers them as the live API does: orgadmin/simulator/scopes.py)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from orgadmin.models import Organization
from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.scopes import parse_permissions
from tests.conftest import SIM_BASE_URL
from tests.factories import OrganizationFactory

_serial = itertools.count(1)


def restrict(simulator: SimulatorApp, org: Organization, permissions: str | Mapping[str, str]):
    """Change what the connection's key may do at the simulator ("all", "read_only",
    "audit_log=none,members=read" or a dict), as its owner would in OpenAI's dashboard."""
    key = next(k for k in simulator.store.admin_keys.values() if k.value == org.admin_key)
    key.permissions = parse_permissions(permissions)


def restricted_org(
    simulator: SimulatorApp,
    permissions: str | Mapping[str, str],
    *,
    name: str = "Acme (restricted key)",
) -> Organization:
    """A connection to the in-process simulator through a new admin key with these permissions."""
    value = f"sk-admin-restricted-{next(_serial):04d}-000000000000000000000"
    simulator.store.admin_key_add(value, permissions=parse_permissions(permissions))
    return OrganizationFactory(name=name, base_url=SIM_BASE_URL, admin_key=value)
