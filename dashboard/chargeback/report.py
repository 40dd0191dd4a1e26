"""A month's chargeback report from its cost lines, the assignments and the rules. Pure Python.

1. Each cost line goes to a target by precedence (models.py): its key's centre, else its
   person's, else its project's rule (a shared pool) or centre, else the remainder rule's pool
   when it is unattributed remainder, else nowhere ("Unallocated").
2. Rounding, once: the month's total is the bill rounded to the cent, and the lines get whole
   cents by the largest-remainder method against it (split.apportion), so they add up to it.
   Each closed month's revision (an adjustment) is rounded the same way against its own total.
3. Each pool's cents are split over its rule's centres by the largest-remainder method (fixed
   percentages, or each centre's direct cost of the month; equally when none had any), so the
   shares add up to the pool exactly.

So, per currency: sum of every line == the month's bill to the cent + its adjustments.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from dashboard.chargeback.split import apportion, from_minor, round_minor, split, to_minor

DIRECT, SHARED, ADJUSTMENT, UNALLOCATED = "direct", "shared", "adjustment", "unallocated"
KINDS = (DIRECT, SHARED, ADJUSTMENT, UNALLOCATED)
UNALLOCATED_NAME = "Unallocated"


@dataclass(frozen=True)
class CostLine:
    """Cost of a month at full precision, at the grain the report places it."""

    project_id: str
    api_key_id: str
    user_id: str
    basis: str  # "billed", "attributed" or "remainder" (unattributed)
    amount: Decimal
    currency: str
    reason: str = ""  # why a remainder has no person


@dataclass(frozen=True)
class Revision:
    """How much a closed month's billed cost of one project and key changed since it was
    closed (full precision); `total` is the month's change to the cent, the same on each."""

    of_month: dt.date
    project_id: str
    api_key_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Centre:
    id: int
    name: str
    code: str = ""
    owner: str = ""


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    method: str  # "fixed" or "usage"
    shares: tuple[tuple[int, Decimal | None], ...]  # (centre id, percent or None)
    project_id: str = ""  # "" for the remainder's rule


@dataclass(frozen=True)
class Setup:
    """Who is charged what: the assignments by kind and the rules."""

    centres: dict[int, Centre]
    by_key: dict[str, int] = field(default_factory=dict)
    by_user: dict[str, int] = field(default_factory=dict)
    by_project: dict[str, int] = field(default_factory=dict)
    project_rules: dict[str, Rule] = field(default_factory=dict)
    remainder_rule: Rule | None = None

    def centre_of(self, project_id: str, api_key_id: str, user_id: str = "") -> int | None:
        """The centre by precedence: key, then person, then project (None: shared or none)."""
        for table, value in (
            (self.by_key, api_key_id),
            (self.by_user, user_id),
            (self.by_project, project_id),
        ):
            if value and value in table:
                return table[value]
        return None


@dataclass(frozen=True)
class Line:
    """One line of the report, to the cent."""

    centre: str  # the centre's name; "" is unallocated
    centre_code: str
    kind: str  # one of KINDS
    description: str
    project_id: str
    api_key_id: str
    user_id: str
    basis: str
    rule: str
    of_month: dt.date | None
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Target:
    centre: int | None = None  # placed on a centre
    rule: Rule | None = None  # or shared by a rule; neither: unallocated


def target_of(setup: Setup, line: CostLine) -> Target:
    """Where a cost line goes (the precedence of models.py)."""
    for table, value in ((setup.by_key, line.api_key_id), (setup.by_user, line.user_id)):
        if value and value in table:
            return Target(centre=table[value])
    if line.project_id in setup.project_rules:
        return Target(rule=setup.project_rules[line.project_id])
    if line.project_id and line.project_id in setup.by_project:
        return Target(centre=setup.by_project[line.project_id])
    if line.basis == "remainder" and setup.remainder_rule is not None:
        return Target(rule=setup.remainder_rule)
    return Target()


def money_text(amount: Decimal, currency: str, *, signed: bool = False) -> str:
    """“$12.34”, “+$12.34”, “-$0.05”, “12.34 EUR”."""
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    if currency.lower() == "usd":
        return f"{sign}${abs(amount):,.2f}"
    return f"{sign}{abs(amount):,.2f} {currency.upper()}"


class Names:
    """Labels of ids for descriptions: what the directory calls them, else the id."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def __call__(self, value: str) -> str:
        return self.names.get(value, value)

    def where(self, project_id: str, api_key_id: str, user_id: str = "") -> str:
        parts = []
        if project_id:
            parts.append(f"project “{self(project_id)}”")
        if api_key_id:
            parts.append(f"key “{self(api_key_id)}”")
        if user_id:
            parts.append(f"person {self(user_id)}")
        return ", ".join(parts) or "no project or key"


# --- building ------------------------------------------------------------------------------


@dataclass
class _Item:
    """A group of cost (or of one month's revisions) bound for one target, still exact."""

    target: Target
    kind: str  # DIRECT or ADJUSTMENT
    project_id: str
    api_key_id: str
    user_id: str
    basis: str
    reason: str
    of_month: dt.date | None
    exact: Fraction  # minor units
    cents: int = 0


def build_lines(
    *,
    costs: Iterable[CostLine],
    revisions: Iterable[Revision],
    revision_totals: dict[tuple[dt.date, str], int],
    setup: Setup,
    names: dict[str, str],
) -> list[Line]:
    """The report's lines: see the module's docstring. `revision_totals` is each closed
    month's change to the cent, per (month, currency), which its revisions are rounded to."""
    label = Names(names)
    by_currency: dict[str, list[CostLine]] = defaultdict(list)
    for cost in costs:
        by_currency[cost.currency].append(cost)
    revised: dict[str, list[Revision]] = defaultdict(list)
    for revision in revisions:
        revised[revision.currency].append(revision)
    lines: list[Line] = []
    for currency in sorted(set(by_currency) | set(revised)):
        items = _cost_items(setup, by_currency[currency], currency)
        direct = _direct_weights(items)
        items += _revision_items(setup, revised[currency], revision_totals, currency)
        for item in items:
            lines.extend(_item_lines(setup, item, direct, label, currency))
    return sorted(lines, key=_line_order)


def _cost_items(setup: Setup, costs: list[CostLine], currency: str) -> list[_Item]:
    groups: dict[tuple, _Item] = {}
    for cost in costs:
        target = target_of(setup, cost)
        key = (target, cost.project_id, cost.api_key_id, cost.user_id, cost.basis, cost.reason)
        item = groups.get(key)
        if item is None:
            item = groups[key] = _Item(target, DIRECT, *key[1:], None, Fraction(0))
        item.exact += to_minor(cost.amount, currency)
    items = list(groups.values())
    total = round_minor(sum((c.amount for c in costs), Decimal(0)), currency)
    for item, cents in zip(items, apportion(total, [i.exact for i in items]), strict=True):
        item.cents = cents
    return items


def _revision_items(
    setup: Setup,
    revisions: list[Revision],
    totals: dict[tuple[dt.date, str], int],
    currency: str,
) -> list[_Item]:
    """Each closed month's revisions, placed as billed cost is (no person: a revision of the
    bill has none) and rounded against that month's change to the cent."""
    months: dict[dt.date, list[_Item]] = defaultdict(list)
    for r in revisions:
        line = CostLine(r.project_id, r.api_key_id, "", "billed", r.amount, currency)
        target = target_of(setup, line)
        months[r.of_month].append(
            _Item(
                target,
                ADJUSTMENT,
                r.project_id,
                r.api_key_id,
                "",
                "billed",
                "",
                r.of_month,
                to_minor(r.amount, currency),
            )
        )
    out: list[_Item] = []
    for month in sorted(set(months) | {m for m, c in totals if c == currency}):
        items = months.get(month, [])
        total = totals.get((month, currency), 0)
        if not items and total:  # a change with no line to carry it: a bug upstream
            raise ValueError(f"{month:%b %Y} changed by {total} units with no revision")
        for item, cents in zip(items, apportion(total, [i.exact for i in items]), strict=True):
            item.cents = cents
        out.extend(i for i in items if i.cents)
    return out


def _direct_weights(items: list[_Item]) -> dict[int, Fraction]:
    """Each centre's direct cost of the month (exact): what a usage rule splits by."""
    weights: dict[int, Fraction] = defaultdict(Fraction)
    for item in items:
        if item.target.centre is not None:
            weights[item.target.centre] += item.exact
    return weights


# Placeholders in a description until its amount and share are known (never in a name: NUL).
_AMOUNT, _SHARE = "\x00amount", "\x00share"


def _text(template: str, amount: Decimal, currency: str, share: str = "") -> str:
    text = template.replace(_SHARE, share)
    return text.replace(_AMOUNT, money_text(amount, currency, signed=True))


def _item_lines(
    setup: Setup, item: _Item, direct: dict[int, Fraction], label: Names, currency: str
) -> list[Line]:
    where = label.where(item.project_id, item.api_key_id, item.user_id)
    if item.kind == ADJUSTMENT:
        template = (
            f"Costs for {item.of_month:%b %Y} revised by the API after close: "
            f"{_AMOUNT} on {where}{_SHARE}"
        )
    elif item.target.rule is not None:
        template = f"Share of {where}{_SHARE}"
    elif item.target.centre is None:
        template = f"Not assigned to a cost centre: {where}"
    else:
        template = where[0].upper() + where[1:] + (f" ({item.reason})" if item.reason else "")
    if item.target.rule is not None:
        return _shared_lines(setup, item, direct, template, currency)
    centre = setup.centres.get(item.target.centre) if item.target.centre else None
    kind = item.kind if centre or item.kind == ADJUSTMENT else UNALLOCATED
    amount = from_minor(item.cents, currency)
    return [_line(centre, kind, _text(template, amount, currency), item, amount, currency, "")]


def _shared_lines(
    setup: Setup, item: _Item, direct: dict[int, Fraction], template: str, currency: str
) -> list[Line]:
    """A pool's cents split over its rule's centres, to the cent."""
    rule = item.target.rule
    assert rule is not None
    shares = _rule_weights(setup, rule, direct)
    if not shares:  # a rule left with no centre: its cost stays in sight, unallocated
        amount = from_minor(item.cents, currency)
        text = _text(template, amount, currency, f" (rule “{rule.name}” has no centre)")
        kind = ADJUSTMENT if item.kind == ADJUSTMENT else UNALLOCATED
        return [_line(None, kind, text, item, amount, currency, rule.name)]
    whole = sum(w for _, w in shares)
    kind = ADJUSTMENT if item.kind == ADJUSTMENT else SHARED
    lines = []
    for (centre_id, weight), cents in zip(
        shares, split(item.cents, [w for _, w in shares]), strict=True
    ):
        if not cents:
            continue
        amount = from_minor(cents, currency)
        percent = (
            Decimal(weight.numerator * 100)
            / Decimal(weight.denominator)
            / Decimal(whole.numerator)
            * Decimal(whole.denominator)
        )
        shown = f"{percent:.2f}".rstrip("0").rstrip(".")
        share = f", {shown} % by rule “{rule.name}”"
        text = _text(template, amount, currency, share)
        lines.append(_line(setup.centres[centre_id], kind, text, item, amount, currency, rule.name))
    return lines


def _rule_weights(
    setup: Setup, rule: Rule, direct: dict[int, Fraction]
) -> list[tuple[int, Fraction]]:
    """(centre id, weight) of a rule's centres: its percents, or their direct cost (every
    centre when the rule names none; equal weights when none had direct cost)."""
    if rule.method == "fixed":
        return [(c, Fraction(p or 0)) for c, p in rule.shares if c in setup.centres and p]
    centres = [c for c, _ in rule.shares if c in setup.centres] or sorted(setup.centres)
    weights = [(c, max(Fraction(0), direct.get(c, Fraction(0)))) for c in centres]
    if not any(w for _, w in weights):
        return [(c, Fraction(1)) for c in centres]
    return weights


def _line(
    centre: Centre | None,
    kind: str,
    text: str,
    item: _Item,
    amount: Decimal,
    currency: str,
    rule: str,
) -> Line:
    return Line(
        centre=centre.name if centre else "",
        centre_code=centre.code if centre else "",
        kind=kind,
        description=text[:500],
        project_id=item.project_id,
        api_key_id=item.api_key_id,
        user_id=item.user_id,
        basis=item.basis,
        rule=rule,
        of_month=item.of_month,
        amount=amount,
        currency=currency,
    )


def _line_order(line: Line) -> tuple:
    return (not line.centre, line.centre.casefold(), KINDS.index(line.kind), -line.amount)


# --- totals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CentreTotal:
    """A centre's month (or the unallocated cost's), in one currency."""

    centre: str  # "" for unallocated
    code: str
    currency: str
    direct: Decimal
    shared: Decimal
    adjustments: Decimal
    lines: int

    @property
    def total(self) -> Decimal:
        return self.direct + self.shared + self.adjustments

    @property
    def name(self) -> str:
        return self.centre or UNALLOCATED_NAME


def centre_totals(lines: Sequence[Line], centres: Iterable[Centre] = ()) -> list[CentreTotal]:
    """One row per centre and currency (every centre, even with nothing this month), then
    the unallocated cost; sums of the lines, so they add up to the report's total."""
    sums: dict[tuple[str, str], dict[str, Decimal]] = {}
    codes: dict[str, str] = {c.name: c.code for c in centres}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    currencies = sorted({line.currency for line in lines}) or ["usd"]
    for name in codes:
        for currency in currencies:
            sums[(name, currency)] = defaultdict(Decimal)
    for line in lines:
        key = (line.centre, line.currency)
        column = DIRECT if line.kind == UNALLOCATED else line.kind
        sums.setdefault(key, defaultdict(Decimal))[column] += line.amount
        counts[key] += 1
        codes.setdefault(line.centre, line.centre_code)
    rows = [
        CentreTotal(
            name,
            codes.get(name, ""),
            currency,
            s[DIRECT],
            s[SHARED],
            s[ADJUSTMENT],
            counts[(name, currency)],
        )
        for (name, currency), s in sums.items()
    ]
    return sorted(rows, key=lambda r: (not r.centre, r.centre.casefold(), r.currency))
