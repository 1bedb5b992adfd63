"""Read a list of sites: a CSV with a ``url`` column (other columns are carried through), or
one address a line. Lines that are not addresses, and repeats, are kept as rows that say so:
every input row comes out in the results, so nothing an investigator listed goes missing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from app.fetch import UrlRejected, normalize_url
from app.jobs.queue import NewItem

MAX_URL_CHARS = 2_000  # longer than any real clinic address
URL_COLUMN = "url"
DELIMITERS = ",;\t"  # Excel writes ';' in locales where ',' is the decimal mark


class InputError(ValueError):
    """The input cannot be read as a list of sites at all."""


@dataclass(frozen=True)
class SiteList:
    items: list[NewItem]
    columns: list[str]  # the carried-through column names, in input order
    notes: list[str]  # how the input was read, when that is worth saying


@dataclass(frozen=True)
class Triage:
    """What enqueueing makes of one row: a site to check, or why not."""

    state: str  # pending | error | skipped
    normalized_url: str | None
    error: str | None


def read_sites(data: bytes) -> SiteList:
    """Parse an uploaded or local list of sites (CSV with a ``url`` header, or plain lines)."""
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.append("the file is not UTF-8; it was read as Windows-1252")
    if "\x00" in text:
        raise InputError("this looks like a binary file, not a CSV or a list of addresses")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter)) if first else []
    if URL_COLUMN in (name.strip().lower() for name in header):
        return _read_csv(text, delimiter, notes)
    items = [
        NewItem(number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return SiteList(items, [], notes)


def triage(items: Sequence[NewItem]) -> list[Triage]:
    """Normalise each address; flag what cannot be checked and repeats of an earlier row."""
    seen: dict[str, int] = {}
    verdicts = []
    for item in items:
        url = item.url.strip()
        if not url:
            verdicts.append(Triage("error", None, "this row has no address"))
            continue
        if len(url) > MAX_URL_CHARS:
            verdicts.append(Triage("error", None, "this is too long to be a web address"))
            continue
        try:
            normalized = normalize_url(url)
        except UrlRejected as exc:
            verdicts.append(Triage("error", None, str(exc)))
            continue
        if normalized in seen:
            error = f"duplicate of line {seen[normalized]}; that line's result is shown"
            verdicts.append(Triage("skipped", normalized, error))
            continue
        seen[normalized] = item.position
        verdicts.append(Triage("pending", normalized, None))
    return verdicts


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str, delimiter: str, notes: list[str]) -> SiteList:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] = []
    for row in reader:
        if any(cell.strip() for cell in row):
            header = _unique([cell.strip() for cell in row])
            break
    url_index = [name.lower() for name in header].index(URL_COLUMN)
    columns = [name for i, name in enumerate(header) if i != url_index]
    items, long_rows = [], 0
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num  # a quoted cell may span several lines
        if not any(cell.strip() for cell in row):
            continue
        long_rows += len(row) > len(header)
        cells = row + [""] * (len(header) - len(row))
        carried = {name: cells[i] for i, name in enumerate(header) if i != url_index}
        items.append(NewItem(start, cells[url_index], carried))
    if long_rows:
        notes.append(f"{long_rows} row(s) have more cells than the header; the extra were ignored")
    return SiteList(items, columns, notes)


def _unique(names: list[str]) -> list[str]:
    """Column names as given, with blanks named and repeats numbered so none is lost."""
    out: list[str] = []
    for index, name in enumerate(names, start=1):
        name = name or f"column {index}"
        candidate, n = name, 2
        while candidate in out:
            candidate, n = f"{name} ({n})", n + 1
        out.append(candidate)
    return out
