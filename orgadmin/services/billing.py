"""An xAI team's billing changes: setting the soft spending limit, the only one the dashboard
makes. It never buys credits: there is no top-up here, nor anywhere in the dashboard.

The change goes to the API first, then to our action log with the API's request id. A refusal is
logged (the log and the action log) and raised; a refusal for permissions (a management key that
may only read billing) also marks the "billing" area, so the page hides its form from then on.
"""

from __future__ import annotations

from typing import Any

from orgadmin.models import Organization
from orgadmin.services.changes import ChangeRefused, team_change
from orgadmin.services.teams import team_id
from orgadmin.xai.types import SpendingLimits

AREA = "billing"
ACTION = "spending_limit.soft.update"
# What a soft limit of 0 means at xAI: no postpaid spend at all.
PREPAID_ONLY = "prepaid credits only: nothing is spent beyond the credits bought"


def dollars(cents: int) -> str:
    """Whole cents as dollars for messages and the action log: 123456 → "$1,234.56"."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def soft_limit_check(cents: int, *, hard_cents: int | None) -> None:
    """Refuse, before any call, a limit xAI would refuse: negative, or above the hard limit."""
    if cents < 0:
        raise ChangeRefused("Enter an amount of $0 or more.", field="amount")
    if hard_cents is not None and cents > hard_cents:
        raise ChangeRefused(
            f"The soft limit can't be above the team's effective hard limit, "
            f"{dollars(hard_cents)}: xAI stops spend there anyway.",
            field="amount",
        )


def soft_limit_summary(cents: int, *, before_cents: int | None) -> str:
    was = f" (was {dollars(before_cents)})" if before_cents is not None else " (none before)"
    what = f"{dollars(cents)} a month" + (f", {PREPAID_ONLY}" if cents == 0 else "")
    return f"Set the xAI team's soft spending limit to {what}{was}"


def billing_soft_limit_set(
    *,
    org: Organization,
    cents: int,
    actor: Any,
    hard_cents: int | None = None,
    before_cents: int | None = None,
) -> SpendingLimits:
    """Set the team's monthly soft spending limit, in US cents (0: prepaid credits only); the
    limits after the change. `hard_cents`, the effective hard limit as last read, bounds it."""
    soft_limit_check(cents, hard_cents=hard_cents)
    summary = soft_limit_summary(cents, before_cents=before_cents)
    return team_change(
        org=org,
        actor=actor,
        action=ACTION,
        summary=summary,
        resource_type="spending_limit",
        area=AREA,
        # The team id inside the change: a failure to learn it is logged like a refusal.
        call=lambda client: client.set_soft_spending_limit(team_id(org), cents),
        resource_id=lambda _limits: org.account_id,
    )
