"""`{% sync_banner sync_status %}`: a sync's status banner and its "Sync now" button."""

from __future__ import annotations

from typing import Any

from django import template

from orgadmin.selectors import SyncStatus
from orgadmin.views.sync import TEMPLATE, banner

register = template.Library()


@register.inclusion_tag(TEMPLATE, takes_context=True)
def sync_banner(context: template.Context, status: SyncStatus) -> dict[str, Any]:
    request = context["request"]
    return banner(request.user, status, org=getattr(request, "org", None))
