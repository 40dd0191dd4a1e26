"""Sortable list headers: `{% sort_th sort "email" "Email" "#member-live" %}` renders one <th>
(orgadmin/_sort_th.html) whose link asks for the column's order and keeps every other filter;
`{% sort_keep sort "member-filter" %}` keeps the order when that filter form is sent."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from orgadmin.selectors.sorting import Sort

register = template.Library()


@register.inclusion_tag("orgadmin/_sort_th.html", takes_context=True)
def sort_th(
    context: template.Context, sort: Sort, key: str, label: str, target: str, cls: str = ""
) -> dict[str, Any]:
    request = context["request"]
    # A list drawn in answer to a form's POST (its own URL) names the list's page: `list_path`.
    path = context.get("list_path") or request.path
    query = request.GET.copy()
    query["sort"] = sort.next_param(key)
    query.pop("page", None)  # a new order starts on its first page
    current = sort.key == key
    return {
        "href": f"{path}?{query.urlencode()}",
        "key": key,
        "label": label,
        "target": target,
        "cls": cls,
        "aria": ("descending" if sort.descending else "ascending") if current else "",
    }


@register.simple_tag
def sort_keep(sort: Sort, form_id: str) -> str:
    """A hidden `sort` input owned by the filter form `form_id` (it may sit outside it, in the
    list that reloads), so searching keeps the order the person chose."""
    if sort.is_default:
        return ""
    return format_html(
        '<input type="hidden" name="sort" value="{}" form="{}">', sort.param, form_id
    )
