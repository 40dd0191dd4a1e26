"""Writes for chargeback, each in the action log: cost centres, assignments and rules (an
Admin), and closing or reopening a month.

Closing a month stores its report as it stands (ClosedLine, to the cent) and what it was made
of (ClosedBase: the month's billed cost per project and key, and the exact revisions of the
closed months before it that it shows as adjustments). From then on its report is read from
there, and whatever the API revises in it later shows as adjustments in the next open month.

Only a month that is over can be closed. An Admin may reopen the latest closed month, with a
reason (logged with what the month's report totalled): its report is built live again, its
later revisions included, and no adjustment of it is shown elsewhere any more. A month before
a closed one can't be reopened: the later one's report may show its revisions already, and
reopening it would count them twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.chargeback import report as rp
from dashboard.chargeback import selectors
from dashboard.chargeback.models import (
    Assignment,
    ClosedBase,
    ClosedLine,
    ClosedMonth,
    CostCentre,
    RuleShare,
    SharedRule,
)
from dashboard.periods import add_months
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused


def _record(actor: Any, org: Organization, action: str, summary: str, kind: str, pk: Any) -> None:
    action_record(
        actor=actor,
        org=org,
        action=f"chargeback.{action}",
        summary=summary,
        resource_type=kind,
        resource_id=str(pk),
    )


# --- centres ---------------------------------------------------------------------------------


def centre_create(*, org: Organization, actor: Any, name: str, code: str, owner: str) -> CostCentre:
    """Add a cost centre; refused when the name is taken."""
    centre = CostCentre(org=org, name=name, code=code, owner=owner)
    _save_centre(centre)
    _record(
        actor, org, "centre_create", f"Added the cost centre “{name}”", "cost_centre", centre.pk
    )
    return centre


def centre_update(
    *, centre: CostCentre, actor: Any, name: str, code: str, owner: str
) -> CostCentre:
    """Rename a centre or change its code or owner (closed months keep the name they had)."""
    before = centre.name
    centre.name, centre.code, centre.owner = name, code, owner
    _save_centre(centre)
    summary = f"Changed the cost centre “{before}”" + (f" to “{name}”" if name != before else "")
    _record(actor, centre.org, "centre_update", summary, "cost_centre", centre.pk)
    return centre


def _save_centre(centre: CostCentre) -> None:
    try:
        with transaction.atomic():
            centre.save()
    except IntegrityError:
        raise ChangeRefused("A cost centre has this name already.", field="name") from None


def centre_delete(*, centre: CostCentre, actor: Any) -> int:
    """Remove a centre and its assignments (returns how many); refused while a rule shares
    cost to it."""
    rules = sorted(
        SharedRule.objects.filter(shares__centre=centre).values_list("name", flat=True).distinct()
    )
    if rules:
        names = ", ".join(f"“{r}”" for r in rules)
        raise ChangeRefused(f"The rule {names} shares cost to it: change or remove it first.")
    with transaction.atomic():
        count = centre.assignments.count()
        summary = f"Removed the cost centre “{centre.name}” and its {count} assignment(s)"
        _record(actor, centre.org, "centre_delete", summary, "cost_centre", centre.pk)
        centre.delete()
    return count


# --- assignments -----------------------------------------------------------------------------


def assignment_create(
    *, org: Organization, actor: Any, kind: str, value: str, centre: CostCentre
) -> Assignment:
    """Charge a project, key or person to a centre; refused when it is charged to one already."""
    assignment = Assignment(org=org, kind=kind, value=value, centre=centre)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise ChangeRefused(
            "It is assigned to a cost centre already: remove that assignment first.", field="value"
        ) from None
    label = assignment.get_kind_display()
    summary = f"Assigned {label} {value} to the cost centre “{centre.name}”"
    _record(actor, org, "assignment_create", summary, "assignment", assignment.pk)
    return assignment


def assignment_delete(*, assignment: Assignment, actor: Any) -> None:
    label = assignment.get_kind_display()
    summary = f"Removed the assignment of {label} {assignment.value} to “{assignment.centre.name}”"
    with transaction.atomic():
        _record(actor, assignment.org, "assignment_delete", summary, "assignment", assignment.pk)
        assignment.delete()


# --- rules -----------------------------------------------------------------------------------


def rule_create(
    *,
    org: Organization,
    actor: Any,
    name: str,
    target: str,
    project_id: str,
    method: str,
    shares: Sequence[tuple[CostCentre, Decimal | None]],
) -> SharedRule:
    """Add a rule that splits a project's cost, or the unattributed remainder, over centres:
    fixed percents that sum to 100, or in proportion to usage (no shares: every centre)."""
    if method == SharedRule.Method.FIXED and sum(p or 0 for _, p in shares) != 100:
        raise ChangeRefused("The percentages must add up to 100.", field="shares")
    rule = SharedRule(
        org=org,
        name=name,
        target=target,
        project_id=project_id if target == SharedRule.Target.PROJECT else "",
        method=method,
    )
    try:
        with transaction.atomic():
            rule.save()
            RuleShare.objects.bulk_create(
                RuleShare(rule=rule, centre=c, percent=p if method == "fixed" else None)
                for c, p in shares
            )
    except IntegrityError:
        what = "project" if target == SharedRule.Target.PROJECT else "remainder"
        raise ChangeRefused(f"A rule shares this {what} already.", field="project_id") from None
    split = ", ".join(f"{c.name} {p} %" if p is not None else c.name for c, p in shares)
    summary = f"Added the rule “{name}” ({rule.get_method_display()}: {split or 'every centre'})"
    _record(actor, org, "rule_create", summary, "shared_rule", rule.pk)
    return rule


def rule_delete(*, rule: SharedRule, actor: Any) -> None:
    with transaction.atomic():
        _record(actor, rule.org, "rule_delete", f"Removed the rule “{rule.name}”", "rule", rule.pk)
        rule.delete()


# --- closing ---------------------------------------------------------------------------------


def month_close(*, org: Organization, actor: Any, month: Any) -> ClosedMonth:
    """Keep the month's report as it stands now (see the module's docstring)."""
    if add_months(month, 1) > selectors.today_in(org=org):
        raise ChangeRefused(f"{month:%B %Y} isn't over yet: it can be closed from its last day on.")
    with transaction.atomic():
        closed = selectors.closed_months(org=org)
        if month in closed:
            raise ChangeRefused(f"{month:%B %Y} is closed already.")
        lines = selectors.live_lines(org=org, month=month, closed=closed)
        found, _totals = selectors.revisions(org=org, month=month, closed=closed)
        billed = selectors.billed(org=org, months=[month])
        user = actor if getattr(actor, "is_authenticated", False) else None
        snapshot = ClosedMonth.objects.create(
            org=org,
            month=month,
            closed_at=timezone.now(),
            closed_by=user,
            closed_by_name=user.get_username() if user else "system",
        )
        ClosedLine.objects.bulk_create(_closed_line(snapshot, line) for line in lines)
        bases = [
            ClosedBase(
                closed=snapshot, of_month=m, project_id=p, api_key_id=k, amount=a, currency=c
            )
            for (m, p, k, c), a in billed.items()
        ]
        bases += [
            ClosedBase(closed=snapshot, of_month=r.of_month, project_id=r.project_id,
                       api_key_id=r.api_key_id, amount=r.amount, currency=r.currency)
            for r in found
        ]  # fmt: skip
        ClosedBase.objects.bulk_create(bases)
        summary = f"Closed {month:%B %Y}: {_totals_text(lines)}"
        _record(actor, org, "month_close", summary, "closed_month", snapshot.pk)
    return snapshot


def _closed_line(snapshot: ClosedMonth, line: rp.Line) -> ClosedLine:
    return ClosedLine(
        closed=snapshot,
        centre=line.centre,
        centre_code=line.centre_code,
        kind=line.kind,
        description=line.description,
        project_id=line.project_id,
        api_key_id=line.api_key_id,
        user_id=line.user_id,
        basis=line.basis,
        rule=line.rule,
        of_month=line.of_month,
        amount=line.amount,
        currency=line.currency,
    )


def _totals_text(lines: Sequence[rp.Line]) -> str:
    sums: dict[str, Decimal] = {}
    for line in lines:
        sums[line.currency] = sums.get(line.currency, Decimal(0)) + line.amount
    return ", ".join(rp.money_text(a, c) for c, a in sorted(sums.items())) or "nothing charged"


def month_reopen(*, org: Organization, actor: Any, month: Any, reason: str) -> None:
    """Build the month's report live again (the latest closed month only), with the reason in
    the action log."""
    if not reason.strip():
        raise ChangeRefused(
            "Say why it is reopened: the action log keeps the reason.", field="reason"
        )
    with transaction.atomic():
        closed = selectors.closed_months(org=org)
        if month not in closed:
            raise ChangeRefused(f"{month:%B %Y} isn't closed.")
        later = [m for m in closed if m > month]
        if later:
            raise ChangeRefused(
                f"{max(later):%B %Y} is closed too, and may show this month's revisions: "
                "reopen the later months first."
            )
        snapshot = closed[month]
        lines = [selectors.line_of(row) for row in snapshot.lines.all()]
        summary = (
            f"Reopened {month:%B %Y} (closed on {snapshot.closed_at:%Y-%m-%d} by "
            f"{snapshot.closed_by_name}, {_totals_text(lines)}): {reason.strip()}"
        )
        _record(actor, org, "month_reopen", summary, "closed_month", snapshot.pk)
        snapshot.delete()
