"""The handlers of the 106 operations; importing this package registers their routes."""

from __future__ import annotations

from orgadmin.simulator.endpoints import (
    access,
    certificates,
    groups,
    org,
    project_keys,
    project_settings,
    projects,
    usage,
)

__all__ = [
    "access",
    "certificates",
    "groups",
    "org",
    "project_keys",
    "project_settings",
    "projects",
    "usage",
]
