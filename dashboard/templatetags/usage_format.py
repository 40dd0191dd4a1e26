"""Number formats for the usage and cost pages: money, counts, bytes and changes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


@register.filter
def money(value, currency: str = "usd") -> str:
    """$1,234.56 (cents, rounded half up); amounts under a cent show as <$0.01."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    symbol = _SYMBOLS.get(str(currency).lower(), "")
    suffix = "" if symbol else f" {str(currency).upper()}"
    if amount and abs(amount) < Decimal("0.01"):
        return f"<{symbol}0.01{suffix}"
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{abs(cents):,.2f}{suffix}"


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
