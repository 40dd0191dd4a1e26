"""The directory sync: make the directory cache exactly what the Admin API says.

The directory is synced in *sections* ("users", "invites", …, and one "project:<id>" per
project). A section reads every page of its lists first and then replaces its rows in one
transaction: upserts on the natural key, deletes what the API no longer lists. So a page that
fails (after the SDK's own retries on 429, 5xx and timeouts) leaves that section exactly as it
was, and a run killed midway leaves every section either old or new, never half-replaced.

Each finished section is recorded on the run (`params["done"]`) in the same transaction as its
rows. A full sync that follows a failed or abandoned one within RESUME_WINDOW skips the sections
that one finished, so a large organization is not fetched again from the start.

- `run`: `directory_sync`, the run over the sections.
- one module per area, each with its sections and the SDK-object → cache-row converters the
  mutation services use too: `people` (users, invites), `projects` (projects and everything in
  one), `groups_roles` (roles, groups, users' own roles), `org_settings` (admin keys,
  certificates, spend limit and alerts, retention).
- `base`: the fetcher and `replace_rows` every section uses.
"""

from __future__ import annotations

from orgadmin.sync.directory.run import (
    ORG_SECTIONS,
    DirectorySyncIncomplete,
    directory_sync,
    project_section,
)

__all__ = ["ORG_SECTIONS", "DirectorySyncIncomplete", "directory_sync", "project_section"]
