"""`{% load key_areas %}{% key_area_note "members" %}`: what the connection's admin key may not
do in the page's area(s), said calmly, with how to fix it.

It reads the summary on the connection (`Organization.key_limits`): no query.
"""

from __future__ import annotations

from typing import Any

from django import template

from orgadmin.areas import AREAS
from orgadmin.providers import OPENAI

register = template.Library()


@register.inclusion_tag("orgadmin/_key_area_note.html", takes_context=True)
def key_area_note(context: template.Context, *areas: str) -> dict[str, Any]:
    org = getattr(context.get("request"), "org", None) or context.get("org")
    limits = getattr(org, "key_limits", None) or {}
    notes = [
        {"area": AREAS[area], "readable": limits[area] != "none"}
        for area in areas
        if area in limits and area in AREAS
    ]
    provider = org.provider_info if org is not None else OPENAI
    return {"notes": notes, "request": context.get("request"), "org": org, "provider": provider}
