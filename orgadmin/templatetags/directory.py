"""Template filters for the directory pages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import timezone

from orgadmin.forms import RATE_LIMIT_LABELS

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    """Integer cents as dollars: 123456 → "$1,234.56" (exact, no float)."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


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
def dollars_input(cents: int | None) -> str:
    """Integer cents as an editable amount: 150000 → "1500", 9995 → "99.95"."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}"


@register.filter
def limit_label(field: str) -> str:
    return RATE_LIMIT_LABELS.get(field, field.replace("_", " "))


@register.filter
def humanize_enum(value: str) -> str:
    """ "zero_data_retention" → "Zero data retention"."""
    text = (value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def get_item(mapping: dict, key: str):
    """`mapping|get_item:key` for dictionaries keyed by ids."""
    return mapping.get(key, "") if mapping else ""


@register.filter
def expired(moment) -> bool:
    """Whether a certificate's (or anything's) expiry time has passed."""
    return moment is not None and moment <= timezone.now()
