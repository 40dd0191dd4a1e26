"""A month's chargeback report as CSV (every cell spreadsheet-safe, through dashboard.exports)
and as an Excel workbook (openpyxl): a Summary sheet per centre and a Lines sheet, amounts as
real numbers with the currency's format, and text that a spreadsheet never runs as a formula."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboard.chargeback.report import UNALLOCATED_NAME
from dashboard.chargeback.selectors import Report
from dashboard.chargeback.split import places
from dashboard.exports import table_export

LINE_COLUMNS = [
    "month",
    "centre",
    "centre_code",
    "kind",
    "description",
    "project_id",
    "project_name",
    "api_key_id",
    "api_key_name",
    "user_id",
    "user",
    "basis",
    "rule",
    "adjusts_month",
    "amount",
    "currency",
]
SUMMARY_COLUMNS = ["Centre", "Code", "Currency", "Direct", "Shared", "Adjustments", "Total"]
SUMMARY_MONEY = (3, 4, 5, 6)  # the columns of SUMMARY_COLUMNS that hold money
LINE_MONEY = (LINE_COLUMNS.index("amount"),)


def _filename(report: Report, ext: str) -> str:
    return f"chargeback-{report.month:%Y-%m}.{ext}"


def line_rows(report: Report) -> Iterator[list[Any]]:
    """One row per report line: ids and their names, the amount as a Decimal."""
    name = report.names.get
    for line in report.lines:
        yield [
            f"{report.month:%Y-%m}",
            line.centre or UNALLOCATED_NAME,
            line.centre_code,
            line.kind,
            line.description,
            line.project_id,
            name(line.project_id, "") if line.project_id else "",
            line.api_key_id,
            name(line.api_key_id, "") if line.api_key_id else "",
            line.user_id,
            name(line.user_id, "") if line.user_id else "",
            line.basis,
            line.rule,
            f"{line.of_month:%Y-%m}" if line.of_month else "",
            line.amount,
            line.currency,
        ]


def report_csv(report: Report) -> tuple[Iterator[str], str]:
    """The report's lines as CSV text chunks, and the file's name."""
    return table_export(
        LINE_COLUMNS, line_rows(report), fmt="csv", filename=_filename(report, "csv")
    )


def _money_format(currency: str) -> str:
    digits = places(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    if currency.lower() == "usd":
        return f'"$"{number};-"$"{number}'
    return f'{number} "{currency.upper()}"'


def _append(sheet: Any, row: list[Any], money: tuple[int, ...], currency: str) -> None:
    """A row whose text stays text (a name starting with "=" is not a formula) and whose
    money columns are numbers in the currency's format."""
    sheet.append(row)
    for index, cell in enumerate(sheet[sheet.max_row]):
        if isinstance(cell.value, str):
            cell.data_type = "s"
        elif index in money:
            cell.number_format = _money_format(currency)


def _header(sheet: Any, columns: list[str], widths: list[int]) -> None:
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def report_xlsx(report: Report) -> tuple[bytes, str]:
    """The report as an Excel workbook: Summary (a row per centre and currency, and the
    total) and Lines (every line, as in the CSV)."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _header(summary, SUMMARY_COLUMNS, [32, 12, 10, 16, 16, 16, 16])
    for row in report.totals:
        values = [row.name, row.code, row.currency.upper(), row.direct, row.shared]
        _append(summary, [*values, row.adjustments, row.total], SUMMARY_MONEY, row.currency)
    for currency, direct, shared, adjustments, total in report.grand_totals:
        values = ["Total", "", currency.upper(), direct, shared, adjustments, total]
        _append(summary, values, SUMMARY_MONEY, currency)
        for cell in summary[summary.max_row]:
            cell.font = Font(bold=True)
    lines = book.create_sheet("Lines")
    _header(lines, LINE_COLUMNS, [9, 24, 12, 12, 70, 18, 20, 18, 20, 18, 24, 10, 20, 12, 14, 9])
    for row in line_rows(report):
        _append(lines, row, LINE_MONEY, row[-1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), _filename(report, "xlsx")
