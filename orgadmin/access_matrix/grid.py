"""The access matrix as a grid: one row per person or service account, one column per project,
each cell the role held there, directly or only through a group.

Built from the rows `project_access` (today) or the history's `access_as_of` (a past day) return:
no query of its own. API keys have no row: a key reaches one project as its owner does, and the
list view shows each one with its owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from orgadmin.access_matrix.selectors import (
    KIND_LABELS,
    KIND_SERVICE_ACCOUNT,
    KIND_USER,
    Access,
    OrgOwner,
)

GRID_COLUMNS = 8  # projects a page of the grid shows side by side; the rest on further pages
GRID_KINDS: tuple[str, ...] = (KIND_USER, KIND_SERVICE_ACCOUNT)
GROUP_PREFIX = "group "
EVERY_PROJECT = "every project"


@dataclass(frozen=True)
class Column:
    project_id: str
    name: str


@dataclass(frozen=True)
class Cell:
    """How one person or service account reaches one project."""

    role: str  # the direct role ("owner" | "member"; "" when not known or only through groups)
    direct: bool
    groups: tuple[str, ...]  # the project's groups they are in, by name

    @property
    def group_names(self) -> str:
        return ", ".join(self.groups)

    @property
    def text(self) -> str:
        """The cell in a spreadsheet: "owner", "member; group Eng", "group Eng; group Ops"."""
        parts = [self.role or "direct"] if self.direct else []
        return "; ".join([*parts, *(f"{GROUP_PREFIX}{g}" for g in self.groups)])


@dataclass
class GridRow:
    kind: str
    subject_id: str
    label: str
    email: str
    org_owner: bool = False  # manages every project, whatever the projects list
    by_project: dict[str, Cell] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def cells(self, columns: Iterable[Column]) -> list[Cell | None]:
        return [self.by_project.get(c.project_id) for c in columns]


@dataclass(frozen=True)
class ColumnPage:
    """The projects one page of the grid shows, and where they sit among all of them."""

    columns: list[Column]
    number: int
    pages: int
    first: int  # 1-based position of the first column shown
    total: int

    @property
    def last(self) -> int:
        return self.first + len(self.columns) - 1

    @property
    def limited(self) -> bool:
        return self.pages > 1


def grid_columns(rows: list[Access], projects: list[tuple[str, str]] | None) -> list[Column]:
    """Today: the active `projects` (id, name). A past day: the projects the history's rows name,
    as today's projects may since have been archived or created."""
    if projects is None:
        projects = list({a.project_id: a.project_name for a in rows}.items())
    columns = [Column(pid, name or pid) for pid, name in projects]
    return sorted(columns, key=lambda c: (c.name.casefold(), c.project_id))


def column_page(columns: list[Column], number: int | None) -> ColumnPage:
    """Page `number` (1 when None, the last when past it) of `columns`, GRID_COLUMNS a page."""
    pages = max(1, -(-len(columns) // GRID_COLUMNS))
    number = min(max(number or 1, 1), pages)
    start = (number - 1) * GRID_COLUMNS
    shown = columns[start : start + GRID_COLUMNS]
    return ColumnPage(shown, number, pages, start + 1, len(columns))


def grid_rows(
    *,
    everything: list[Access],
    kept: list[Access],
    columns: list[Column],
    owners: list[OrgOwner],
    owners_shown: list[OrgOwner],
) -> list[GridRow]:
    """A row for each person or service account with a `kept` path to a project of `columns`,
    and for each of `owners_shown`; its cells from `everything` (all their paths, not only the
    ones the filters kept). Every row of one of `owners` is marked as reaching every project."""
    projects = {c.project_id for c in columns}
    wanted = {
        (a.kind, a.subject_id) for a in kept if a.kind in GRID_KINDS and a.project_id in projects
    }
    wanted |= {(KIND_USER, o.user_id) for o in owners_shown}
    found: dict[tuple[str, str], GridRow] = {}
    paths: dict[tuple[str, str, str], list[Access]] = {}
    for a in everything:
        key = (a.kind, a.subject_id)
        if key not in wanted or a.project_id not in projects:
            continue
        found.setdefault(key, GridRow(a.kind, a.subject_id, a.label, a.email))
        paths.setdefault((*key, a.project_id), []).append(a)
    for o in owners_shown:
        found.setdefault((KIND_USER, o.user_id), GridRow(KIND_USER, o.user_id, o.label, o.email))
    for (kind, subject_id, project_id), reached in paths.items():
        found[(kind, subject_id)].by_project[project_id] = _cell(reached)
    owner_ids = {o.user_id for o in owners}
    for (kind, subject_id), row in found.items():
        row.org_owner = kind == KIND_USER and subject_id in owner_ids
    order = {kind: n for n, kind in enumerate(GRID_KINDS)}
    return sorted(found.values(), key=lambda r: (order[r.kind], r.label.casefold(), r.subject_id))


def _cell(paths: list[Access]) -> Cell:
    direct = [a for a in paths if not a.via]
    groups = sorted(
        {a.via.removeprefix(GROUP_PREFIX) for a in paths if a.via.startswith(GROUP_PREFIX)},
        key=str.casefold,
    )
    return Cell(role=direct[0].role if direct else "", direct=bool(direct), groups=tuple(groups))


def grid_csv_columns(columns: list[Column]) -> list[str]:
    return [
        "kind",
        "id",
        "name",
        "email",
        "org_owner",
        *(f"{c.name} ({c.project_id})" for c in columns),
    ]


def grid_csv_rows(rows: list[GridRow], columns: list[Column]) -> Iterable[list[str]]:
    """A spreadsheet's rows: one a person or service account, one column a project."""
    for row in rows:
        cells = [c.text if c else "" for c in row.cells(columns)]
        owner = EVERY_PROJECT if row.org_owner else ""
        yield [row.kind, row.subject_id, row.label, row.email, owner, *cells]
