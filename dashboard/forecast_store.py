"""Month-end forecasts kept in the database, computed once for each change of what they are made
from: what budgets (dashboard/budgets/forecasts.py, `StoredForecast`) and the Overview's forecasts
per project and model (dashboard/group_forecasts.py, `GroupForecast`) share.

A fit takes 0.05 to 0.9 s (statsmodels, 1,000 simulated paths), so the check that runs after
each usage sync computes them and stores them; a page reads them. Nothing stale is shown: a stored
forecast is used only while its `inputs` digest is the one of today's inputs, which are
everything it is made from (its caller's dataclass of them, by its repr) and the code that makes
it:

- `code_digest(path)`: dashboard/forecasting.py's source, this module's, the caller's module's
  (`path`), and the numpy and statsmodels versions, so a change to the method misses every stored
  forecast, with no version to bump by hand;
- `inputs_digest(code, inputs)`: that digest and the inputs', one sha256;
- `matching(rows, digests, key=)`: the stored rows whose digest is still today's;
- `band_of(row)` / `row_fields(digest, band)`: a stored row's forecast, and the columns of one
  (`dashboard.models.StoredForecastFields`, the abstract model both tables are made of);
- `stored_upsert(model, rows, unique_fields=, extra_fields=)`: insert or replace, one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils import timezone

from dashboard import forecasting

if TYPE_CHECKING:
    from django.db import models

    from dashboard.models import StoredForecastFields

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound="StoredForecastFields")
# What every stored forecast's row holds besides its key (StoredForecastFields).
STORED_FIELDS = ("inputs", "expected", "low", "high", "level", "note", "computed_at")


@dataclass(frozen=True)
class Band:
    """A period's spend at its last day: spent so far plus a forecast of the days left, and the
    band it is likely in."""

    expected: Decimal
    low: Decimal
    high: Decimal
    level: float  # of the band (0.8: 80 % likely between low and high)
    note: str  # the forecasting method in a few words

    @classmethod
    def of(cls, month: forecasting.MonthForecast) -> Band:
        return cls(
            expected=month.expected,
            low=month.low,
            high=month.high,
            level=month.level,
            note=month.note,
        )


def code_digest(path: str) -> str:
    """What a forecast is computed by: the forecasting module's, this module's and `path`'s
    source, and the numpy and statsmodels versions."""
    parts = [Path(p).read_bytes() for p in (forecasting.__file__, __file__, path)]
    parts.extend(metadata.version(lib).encode() for lib in ("numpy", "statsmodels"))
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def inputs_digest(code: str, inputs: object) -> str:
    """The digest a stored forecast is kept under: the code's and the inputs' (by their repr)."""
    return hashlib.sha256(f"{code}\0{inputs!r}".encode()).hexdigest()


def matching(rows: Iterable[R], digests: Mapping[K, str], *, key: Callable[[R], K]) -> dict[K, R]:
    """{key: row} of the stored rows whose digest is the one wanted under their key."""
    return {key(row): row for row in rows if digests.get(key(row)) == row.inputs}


def band_of(row: StoredForecastFields) -> Band:
    return Band(expected=row.expected, low=row.low, high=row.high, level=row.level, note=row.note)


def row_fields(digest: str, band: Band) -> dict[str, Any]:
    """The stored columns of a forecast just computed (for the model's constructor)."""
    return {
        "inputs": digest,
        "expected": band.expected,
        "low": band.low,
        "high": band.high,
        "level": band.level,
        "note": band.note,
        "computed_at": timezone.now(),
    }


def stored_upsert(
    model: type[models.Model],
    rows: Sequence[StoredForecastFields],
    *,
    unique_fields: Sequence[str],
    extra_fields: Sequence[str] = (),
) -> None:
    """Insert each row, or replace the one stored under its key (one query)."""
    if rows:
        model.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=list(unique_fields),
            update_fields=[*STORED_FIELDS, *extra_fields],
        )
