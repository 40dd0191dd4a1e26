"""Template helpers of the audit log explorer: sentences with links, and diff values."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from orgadmin.audit import UNKNOWN, Ref, Sentence, format_value, humanize

register = template.Library()


@register.simple_tag
def audit_sentence(sentence: Sentence) -> SafeString:
    """The sentence as HTML: each thing it names links to its page where there is one."""
    from orgadmin.views.audit_log import page_link

    def part(p) -> SafeString:
        if not isinstance(p, Ref):
            return format_html("{}", p)
        url = page_link(p)
        if url:
            return format_html('<a href="{}" title="{}">{}</a>', url, p.id, p.label)
        title = p.id if p.id != p.label else ""
        return format_html('<strong class="ref" title="{}">{}</strong>', title, p.label)

    return format_html_join("", "{}", ((part(p),) for p in sentence.parts))


@register.filter
def audit_value(value) -> str:
    """A diff value as text: lists joined, nothing as —, unknown as “unknown”."""
    return format_value(value)


@register.filter
def is_unknown(value) -> bool:
    return value is UNKNOWN


@register.filter
def break_at(value: str) -> SafeString:
    """An email or id that may wrap after its @ (or its last dot), never inside a word."""
    text = str(value)
    for mark in ("@",):
        if mark in text:
            head, tail = text.split(mark, 1)
            return format_html("{}{}<wbr>{}", head, mark, tail)
    return format_html("{}", text)


@register.filter
def kind_label(kind: str) -> str:
    """`service_account` → "Service account", `key` → "API key"."""
    if kind == "key":
        return "API key"
    text = humanize(kind)
    return text[:1].upper() + text[1:]
