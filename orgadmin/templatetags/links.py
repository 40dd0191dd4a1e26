"""Links a person may follow: `{% load links %}`.

A template asks "may this user open this page?" with `{% allowed_url %}`, which answers with the
URL or with "" — then shows the name as plain text instead of a link that says "not allowed".
The answer comes from the views' own guards (orgadmin.access.may_use / may_open), so what a page
offers and what the server lets through can't drift apart.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from orgadmin.access import may_open, may_use

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


def _org(context: template.Context) -> Any:
    """The connection the page is about: roles are given per connection."""
    return getattr(context.get("request"), "org", None)


@register.simple_tag(takes_context=True)
def allowed_url(context: template.Context, target: str, *args: Any) -> str:
    """`{% allowed_url 'orgadmin:member' u.openai_id as url %}`: the reversed URL when the
    signed-in user may open it (on the current connection), else "". `target` may also be a
    URL already built (one that starts with "/", e.g. a link a page's context carries): then
    it is checked as it is."""
    user = _user(context)
    if target.startswith("/"):
        return target if may_open(user, target, _org(context)) else ""
    return reverse(target, args=args) if may_use(user, target, _org(context)) else ""
