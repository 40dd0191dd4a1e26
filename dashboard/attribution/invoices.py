"""An xAI team's reconciliation: per month, the costs synced from its usage analytics against
what its invoices bill, read live (orgadmin/selectors/billing.py: one request per month, plus
the month so far). Prepaid credit purchases are payments, not usage: their lines are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dashboard.models import CostRollup
from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.selectors.billing import billing_invoices, billing_month_to_date, months_back
from orgadmin.services.teams import team_id
from orgadmin.xai.client import xai_client

MONTHS = 6
CREDITS = "credits"  # the unit of a prepaid purchase's line


@dataclass
class InvoiceMonth:
    month: dt.date  # its first day
    synced: Decimal
    invoiced: Decimal | None  # None: no invoice for it (yet)
    numbers: list[str]
    status: str  # the invoices' statuses, or "month so far (preview)"

    @property
    def difference(self) -> Decimal | None:
        return None if self.invoiced is None else self.synced - self.invoiced


def _next(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _synced(org: Organization, first: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    rows = (
        CostRollup.objects.filter(org=org, dimension="", day__gte=first, day__lt=end)
        .values_list("day", "amount")
        .order_by()
    )
    out: dict[dt.date, Decimal] = {}
    for day, amount in rows:
        out[day.replace(day=1)] = out.get(day.replace(day=1), Decimal(0)) + amount
    return out


def invoice_months(
    *, org: Organization, today: dt.date, months: int = MONTHS
) -> tuple[list[InvoiceMonth], OrgAPIError | None]:
    """The last `months` months, this one included (its preview), newest first; the API's
    refusal, if any, with the synced side still shown."""
    first = months_back(today, months)
    synced = _synced(org, first, _next(today.replace(day=1)))
    rows, month = [], first
    while month <= today:
        rows.append(InvoiceMonth(month, synced.get(month, Decimal(0)), None, [], ""))
        month = _next(month)
    try:
        team = team_id(org)
        with xai_client(org) as client:
            for row in rows[:-1]:
                found = billing_invoices(client=client, team=team, cycle=row.month).rows
                usage = [i for i in found if any(ln.unit_type != CREDITS for ln in i.lines)]
                if usage:
                    row.invoiced = sum(
                        (ln.amount for i in usage for ln in i.lines if ln.unit_type != CREDITS),
                        Decimal(0),
                    )
                    row.numbers = [i.number for i in usage]
                    row.status = ", ".join(sorted({i.status for i in usage}))
            preview = billing_month_to_date(client=client, team=team)
            rows[-1].invoiced, rows[-1].status = preview.before_vat, "month so far (preview)"
    except OrgAPIError as exc:
        return rows[::-1], exc
    return rows[::-1], None
