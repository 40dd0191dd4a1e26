"""The one CSV writer of every export: streamed text that is safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula, and any project, key or member name is chosen by someone in the organization. So every
text cell that starts with one of those gets a leading `'` (OWASP's CSV-injection rule) and shows
as the text it is. Numbers are never touched: a credit of -12.5 stays a number a sheet can sum.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

Cell = str | int | float | Decimal | None

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 1000  # rows per chunk handed to the server: one write each, not one per row


def plain(value: Decimal | float | int | None) -> str:
    """A number as a plain decimal: no exponent, no trailing zeros, no float artefacts."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def csv_cell(value: Cell) -> str:
    """A cell's text: a number as a plain decimal, None empty, any other value inert text."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    # Exact types: a bool (an int) is text, and so is anything else, through str().
    if kind is int or kind is Decimal or kind is float:
        return plain(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_stream(columns: Iterable[str], rows: Iterable[Iterable[Cell]]) -> Iterator[str]:
    """CSV text for a StreamingHttpResponse: the header line, then rows in chunks of whole lines.

    Rows are read lazily, so an export of any size runs in constant memory. Pass numbers as
    numbers (int, float, Decimal): a string is always text, so a name "-5" is neutralised too.
    """
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(map(csv_cell, columns))
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(map(csv_cell, row)))
        if len(batch) == BATCH_ROWS:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)
