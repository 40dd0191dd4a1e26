"""Reads of the directory cache for pages and for other apps. Never calls the API."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import CharField, Value
from django.db.models.functions import Coalesce, NullIf

from orgadmin.models import (
    AdminApiKey,
    Organization,
    OrgUser,
    Project,
    ProjectApiKey,
    ServiceAccount,
)

# SQLite allows 32766 bound parameters per statement; four sub-selects share one statement.
_IDS_PER_QUERY = 2000


def display_names(*, org: Organization, ids: Iterable[str]) -> dict[str, str]:
    """Map OpenAI ids to what a person recognises, from the cache, in one query per 2,000 ids.

    Project ids → project names, API key ids → key names (else the redacted value), user ids →
    emails (else names), service account ids → names. Unknown ids are left out.
    """
    wanted = sorted({i for i in ids if i})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        names.update(_display_names_query(org=org, ids=chunk))
    return names


def _label(*fields: str) -> Coalesce:
    """The first non-empty of `fields`, as text."""
    return Coalesce(*(NullIf(f, Value("")) for f in fields), Value(""), output_field=CharField())


def _display_names_query(*, org: Organization, ids: list[str]) -> dict[str, str]:
    projects = Project.objects.filter(org=org, openai_id__in=ids).annotate(
        label=_label("name", "openai_id")
    )
    keys = ProjectApiKey.objects.filter(org=org, openai_id__in=ids).annotate(
        label=_label("name", "redacted_value")
    )
    admin_keys = AdminApiKey.objects.filter(org=org, openai_id__in=ids).annotate(
        label=_label("name", "redacted_value")
    )
    users = OrgUser.objects.filter(org=org, openai_id__in=ids).annotate(
        label=_label("email", "name")
    )
    accounts = ServiceAccount.objects.filter(project__org=org, openai_id__in=ids).annotate(
        label=_label("name", "openai_id")
    )
    # Default orderings are cleared: a compound statement may not order its parts.
    parts = [
        qs.order_by().values_list("openai_id", "label")
        for qs in (keys, admin_keys, users, accounts)
    ]
    rows = projects.order_by().values_list("openai_id", "label").union(*parts, all=True)
    return {openai_id: label for openai_id, label in rows if label}
