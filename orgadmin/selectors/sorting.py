"""Sorting a list by one of its columns: `?sort=email`, `?sort=-last_used`, from a whitelist.

Each list names its sortable columns once (a `Sorting` below); the view reads `?sort=` with it
and hands the `Sort` to the list's selector, which orders by `sort.order_by()`. A value that
names no column (garbage, a field name, an injection attempt) is the list's default order:
the page always answers. The header cells are `{% sort_th %}` (orgadmin/templatetags/sorting.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import F, OrderBy
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower

MAX_SORT_LENGTH = 40


@dataclass(frozen=True)
class Column:
    """What a column sorts by. Text sorts without regard to case; `descending_first` columns
    (dates, counts, money) show the newest or largest first on the first click; `nulls_oldest`
    puts empty dates ("never used") before every date, so they come last when newest are first."""

    fields: tuple[str, ...]
    text: bool = False
    descending_first: bool = False
    nulls_oldest: bool = False

    def order_by(self, *, descending: bool) -> list[OrderBy]:
        exprs: list[OrderBy] = []
        for name in self.fields:
            expr: Combinable = Lower(name) if self.text else F(name)
            if descending:
                exprs.append(expr.desc(nulls_last=True) if self.nulls_oldest else expr.desc())
            else:
                exprs.append(expr.asc(nulls_first=True) if self.nulls_oldest else expr.asc())
        return exprs


def text(*fields: str) -> Column:
    return Column(fields, text=True)


def plain(*fields: str) -> Column:
    return Column(fields)


def newest(*fields: str, nulls_oldest: bool = False) -> Column:
    return Column(fields, descending_first=True, nulls_oldest=nulls_oldest)


@dataclass(frozen=True)
class Sort:
    """One list's current order: a column key and a direction."""

    key: str
    descending: bool
    sorting: Sorting

    @property
    def param(self) -> str:
        """As written in the query string: `email`, `-last_used`."""
        return ("-" if self.descending else "") + self.key

    @property
    def is_default(self) -> bool:
        return self.param == self.sorting.default

    def next_param(self, key: str) -> str:
        """What clicking column `key` asks for: the other direction if it is the current
        column, else the column's first direction."""
        if key == self.key:
            return key if self.descending else f"-{key}"
        return f"-{key}" if self.sorting.columns[key].descending_first else key

    def order_by(self) -> list[OrderBy | str]:
        column = self.sorting.columns[self.key]
        return [*column.order_by(descending=self.descending), *self.sorting.tiebreak]


@dataclass(frozen=True)
class Sorting:
    """A list's sortable columns (key → Column), its default (`-created`) and the fields that
    make the order total (so paging never shows a row twice)."""

    columns: Mapping[str, Column]
    default: str
    tiebreak: tuple[str, ...] = field(default=("openai_id",))

    def parse(self, value: object) -> Sort:
        """The Sort that `value` (a `?sort=` value, maybe absent or garbage) asks for."""
        wanted = value if isinstance(value, str) and len(value) <= MAX_SORT_LENGTH else ""
        key = wanted.removeprefix("-")
        if key not in self.columns:
            wanted = self.default
            key = wanted.removeprefix("-")
        return Sort(key=key, descending=wanted.startswith("-"), sorting=self)

    @property
    def default_sort(self) -> Sort:
        return self.parse(self.default)


MEMBERS = Sorting(
    columns={
        "name": text("name", "email"),
        "email": text("email"),
        "role": plain("role", "email"),
        "projects": newest("project_count"),
        "added": newest("added_at", nulls_oldest=True),
    },
    default="email",
)
INVITES = Sorting(
    columns={
        "email": text("email"),
        "role": plain("role", "email"),
        "status": plain("status", "email"),
        "sent": newest("created_at", nulls_oldest=True),
        "expires": newest("expires_at", "accepted_at", nulls_oldest=True),
    },
    default="-sent",
)
GROUPS = Sorting(
    columns={
        "name": text("name"),
        "members": newest("member_count"),
        "created": newest("created_at", nulls_oldest=True),
        "managed": plain("is_scim_managed", "name"),
    },
    default="name",
)
ROLES = Sorting(
    columns={
        "name": text("name"),
        "applies": plain("resource_type", "name"),
        "members": newest("user_count"),
        "groups": newest("group_count"),
    },
    default="name",
)
PROJECTS = Sorting(
    columns={
        "name": text("name"),
        "status": plain("status", "name"),
        "members": newest("member_count"),
        "accounts": newest("service_account_count"),
        "keys": newest("key_count"),
        "spend": Column(("month_spend", "name"), descending_first=True),
        "created": newest("created_at", nulls_oldest=True),
    },
    default="name",
)
KEYS = Sorting(
    columns={
        "name": text("name", "redacted_value"),
        "key": plain("redacted_value"),
        "project": text("project__name"),
        "owner": text("owner_name", "owner_email"),
        "created": newest("created_at", nulls_oldest=True),
        "last_used": newest("last_used_at", nulls_oldest=True),
    },
    default="-created",
)
ADMIN_KEYS = Sorting(
    columns={
        "name": text("name", "redacted_value"),
        "key": plain("redacted_value"),
        "owner": text("owner_name"),
        "created": newest("created_at", nulls_oldest=True),
        "expires": newest("expires_at", nulls_oldest=True),
        "last_used": newest("last_used_at", nulls_oldest=True),
    },
    default="-created",
)
PROJECT_MEMBERS = Sorting(
    columns={
        "name": text("name", "email"),
        "email": text("email"),
        "role": plain("role", "email"),
        "added": newest("added_at", nulls_oldest=True),
    },
    default="email",
    tiebreak=("user_openai_id",),
)
SERVICE_ACCOUNTS = Sorting(
    columns={
        "name": text("name"),
        "role": plain("role", "name"),
        "created": newest("created_at", nulls_oldest=True),
    },
    default="name",
)
ACTIONS = Sorting(
    columns={
        "when": newest("created_at"),
        "who": text("actor_name"),
        "what": plain("action"),
        "resource": plain("resource_type", "resource_id"),
        "outcome": plain("outcome"),
    },
    default="-when",
    tiebreak=("-id",),
)
PEOPLE = Sorting(
    columns={
        "name": text("username"),
        "email": text("email"),
        "mfa": plain("has_mfa", "username"),
        "last_sign_in": newest("last_login", nulls_oldest=True),
        "status": plain("is_active", "username"),
    },
    default="name",
    tiebreak=("id",),
)
