"""Write the results table as CSV, JSON Lines, JSON or an Excel workbook.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some of them strip first) as a formula, and clinic sites and input lists are not
ours: such a cell gets a leading ``'`` in CSV and XLSX. JSON is data, not a spreadsheet, and
keeps every value as it is.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.engine.types import (
    ABSENCE_CATEGORIES,
    CATEGORY_TITLES,
    MITIGATING_CATEGORIES,
    RED_FLAG_CATEGORIES,
    VERDICTS,
)
from app.jobs.results import COLUMN_HELP

Format = Literal["csv", "jsonl", "json", "xlsx"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
XLSX_MAX_CELL = 32_767  # characters Excel keeps in one cell
WIDTH_SAMPLE = 200  # rows read to size each column
MAX_WIDTH = 60  # characters; longer cells wrap in the spreadsheet rather than widen it
LINK_COLUMNS = ("report_url",)  # our own links, safe to make clickable


def format_for(path: Path) -> Format:
    """The format an output file's extension asks for."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "jsonl", "json", "xlsx"):
        return suffix  # type: ignore[return-value]
    raise ValueError(f"{path.name}: the output must end in .csv, .jsonl, .json or .xlsx")


def neutralize(value: str) -> str:
    """Make a cell that a spreadsheet would run as a formula plain text."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def cell(value: Any) -> str | int | float:
    """One CSV cell: lists joined, text neutralised, numbers left as numbers."""
    plain = _plain(value)
    return neutralize(plain) if isinstance(plain, str) else plain


def _plain(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def render(rows: Sequence[Mapping[str, Any]], header: Sequence[str], fmt: Format) -> bytes:
    """The table in ``fmt``, as bytes (the API answers with these)."""
    if fmt == "xlsx":
        return _xlsx(rows, header)
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1).encode()
    if fmt == "jsonl":
        return b"".join(_jsonl(rows))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(row.get(name)) for name in header] for row in rows)
    # A BOM tells Excel the file is UTF-8; other readers skip it.
    return ("\ufeff" + out.getvalue()).encode()


def write(path: Path, rows: Sequence[Mapping[str, Any]], header: Sequence[str]) -> None:
    """Write the table to ``path`` atomically: a reader never sees half a file."""
    data = render(rows, header, format_for(path))
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _jsonl(rows: Iterable[Mapping[str, Any]]) -> Iterable[bytes]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False).encode() + b"\n"


def _xlsx(rows: Sequence[Mapping[str, Any]], header: Sequence[str]) -> bytes:
    """Results with a frozen, filterable header, sized columns and clickable report links,
    then a sheet that explains each column and a legend of verdicts and categories."""
    book = Workbook(write_only=True)  # streams rows: thousands of sites stay cheap
    sheet = book.create_sheet("results")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sample = [_plain(row.get(name)) for row in rows[:WIDTH_SAMPLE]]
        longest = max((len(str(v)) for v in sample), default=0)
        width = min(MAX_WIDTH, max(len(name), longest) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    sheet.append([_styled(sheet, name, font=bold) for name in header])
    for row in rows:
        sheet.append(
            [
                _link(sheet, row.get(name)) if name in LINK_COLUMNS else _xlsx_cell(row.get(name))
                for name in header
            ]
        )
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    _explanations(book, header)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _explanations(book: Workbook, header: Sequence[str]) -> None:
    columns = book.create_sheet("columns")
    columns.column_dimensions["A"].width = 24
    columns.column_dimensions["B"].width = 100
    columns.append(["column", "what it holds"])
    for name in header:
        columns.append([name, COLUMN_HELP.get(name, "A column of your list, carried through.")])
    legend = book.create_sheet("legend")
    for letter, width in zip("ABC", (26, 36, 60), strict=True):
        legend.column_dimensions[letter].width = width
    legend.append(["name in the table", "in words", "kind"])
    for verdict, view in VERDICTS.items():
        legend.append([verdict, view.words, "verdict"])
    kinds = (
        (RED_FLAG_CATEGORIES, "warning sign"),
        (ABSENCE_CATEGORIES, "missing information (sellers only)"),
        (MITIGATING_CATEGORIES, "reassuring sign (sellers only)"),
    )
    for categories, kind in kinds:
        for category in categories:
            legend.append([category, CATEGORY_TITLES[category], kind])


def _styled(sheet: WriteOnlyWorksheet, value: Any, *, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_xlsx_cell(value))
    cell.font = font
    return cell


def _link(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell | str | int | float:
    """A report link as a hyperlink; only http(s) addresses of ours become one."""
    text = _xlsx_cell(value)
    if not isinstance(text, str) or not text.startswith(("http://", "https://")):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.hyperlink = text
    cell.style = "Hyperlink"
    return cell


def _xlsx_cell(value: Any) -> str | int | float:
    plain = _plain(value)
    if not isinstance(plain, str):
        return plain
    # openpyxl refuses control characters XML 1.0 cannot carry; they go before neutralising,
    # so that what is left cannot start a formula.
    return neutralize(ILLEGAL_CHARACTERS_RE.sub("", plain))[:XLSX_MAX_CELL]
