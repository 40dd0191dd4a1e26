"""The failing-channels banner: on every page of an Admin of the connection, when a channel that
carries its alerts is flagged (dashboard.alerts.delivery). No alert fails silently."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from dashboard.alerts.selectors import channels_failing
from orgadmin.access import Perm, holds


def failing_channels(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    org = getattr(request, "org", None)
    if user is None or org is None or not user.is_authenticated:
        return {}
    if not holds(user, Perm.MANAGE, org=org):
        return {}
    # Read only when a template shows it (base.html does): one query.
    return {"failing_alert_channels": SimpleLazyObject(lambda: channels_failing(org=org))}
