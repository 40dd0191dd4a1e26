"""`{% load all_orgs %}{% all_orgs_offered as offered %}`: whether the person is offered the All
organizations view (spend on two connections or more; dashboard/pages_all.py), for the
organization switcher. No query: the connections and the grants are the request's."""

from __future__ import annotations

from django import template

from dashboard.pages_all import offered

register = template.Library()


@register.simple_tag(takes_context=True)
def all_orgs_offered(context: template.Context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return offered(user, getattr(request, "orgs", None) or [])
