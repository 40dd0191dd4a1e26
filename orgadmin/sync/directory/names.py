"""The names the directory cache knew, kept after the things are gone.

The directory sync replaces its rows: a deleted key, project, member or service account leaves
the cache, and with it its name. Pages of the audit log still name them: after each run the
cache's names are remembered in AuditName, which is never emptied.
"""

from __future__ import annotations

from django.utils import timezone

from orgadmin.models import Organization
from orgadmin.selectors.directory import directory_names
from orgadmin.sync.audit import names_remember


def names_keep(*, org: Organization) -> int:
    """Remember every name the cache knows now; returns how many."""
    now = timezone.now()
    names = directory_names(org=org)
    names_remember(org=org, names={i: (now, name) for i, name in names.items()})
    return len(names)
