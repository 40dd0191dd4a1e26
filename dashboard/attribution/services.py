"""Attribution's writes: an Admin's price overrides, added and removed in the action log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from dashboard.attribution.models import PriceOverride
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused


def price_override_create(
    *,
    org: Organization,
    actor: Any,
    line_item: str,
    usd: Decimal,
    per: str,
    effective_from: dt.date,
    note: str = "",
) -> PriceOverride:
    """Set the organization's own price of a line item from a day on (over the table's)."""
    override = PriceOverride(
        org=org,
        line_item=line_item,
        usd=usd,
        per=per,
        effective_from=effective_from,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            override.save()
            _record(
                actor, override, "create", f"Set the price of “{line_item}” to {_terms(override)}"
            )
    except IntegrityError:
        raise ChangeRefused(
            "This line item has a price from that day already; remove it first.",
            field="effective_from",
        ) from None
    return override


def price_override_delete(*, override: PriceOverride, actor: Any) -> None:
    """Remove an override: the table's price (or an earlier override) holds again."""
    with transaction.atomic():
        _record(
            actor,
            override,
            "delete",
            f"Removed the price of “{override.line_item}” ({_terms(override)})",
        )
        override.delete()


def _terms(o: PriceOverride) -> str:
    return f"${o.usd.normalize():f} per {o.per} from {o.effective_from}"


def _record(actor: Any, override: PriceOverride, action: str, summary: str) -> None:
    action_record(
        actor=actor,
        org=override.org,
        action=f"price_override.{action}",
        summary=summary,
        resource_type="price_override",
        resource_id=str(override.pk),
    )
