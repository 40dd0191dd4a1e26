"""Number formats for the usage and cost pages: money, counts, bytes and changes."""

from __future__ import annotations

from django import template

from orgadmin.templatetags.directory import money

register = template.Library()

# Money is formatted as on the directory pages (a project's spend this month).
register.filter("money", money)


@register.filter
def count(value) -> str:
    """12,345 (or — when the API gave nothing)."""
    if value is None or value == "":
        return "—"
    number = float(value)
    return f"{round(number):,}" if abs(number) >= 10 or number == int(number) else f"{number:,.2f}"


@register.filter
def compact(value) -> str:
    """1.2M, 34.5K: for cards."""
    if value is None:
        return "—"
    number = float(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= size:
            return f"{number / size:.1f}{suffix}"
    return f"{number:,.0f}"


@register.filter
def filesize(value) -> str:
    """Bytes in binary units: 1.5 GiB."""
    if value is None:
        return "—"
    number = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(number) < 1024 or unit == "TiB":
            return f"{number:,.0f} {unit}" if unit == "B" else f"{number:,.1f} {unit}"
        number /= 1024
    return str(value)


@register.filter
def metric_value(value, unit: str) -> str:
    return filesize(value) if unit == "bytes" else count(value)


@register.filter
def change(value) -> str:
    """+12.3% / −4.0%."""
    if value is None:
        return ""
    number = float(value)
    return f"+{number:.1f}%" if number >= 0 else f"−{abs(number):.1f}%"


@register.filter
def percent(value) -> str:
    if value is None:
        return ""
    return f"{float(value):.1f}%"
