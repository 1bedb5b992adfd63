"""Reading site lists and writing result tables: every row kept, formulas made harmless."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.jobs.export import neutralize, render
from app.jobs.inputs import InputError, read_sites, triage
from app.jobs.results import table_rows


def test_csv_with_a_url_column_carries_the_other_columns() -> None:
    data = "\ufeffCase;URL;Notes\n7;clinic.example;first\n\n8;;no address\n9;b.example;x;extra\n"
    sites = read_sites(data.encode())
    assert sites.columns == ["Case", "Notes"]
    assert [(i.position, i.url) for i in sites.items] == [
        (2, "clinic.example"),
        (4, ""),
        (5, "b.example"),
    ]
    assert sites.items[0].columns == {"Case": "7", "Notes": "first"}
    assert sites.notes == ["1 row(s) have more cells than the header; the extra were ignored"]


def test_plain_lists_skip_blanks_and_comments_and_any_encoding_is_read() -> None:
    sites = read_sites("# clinics\nclinic.example\n\n  café.example  \n".encode("cp1252"))
    assert [(i.position, i.url) for i in sites.items] == [
        (2, "clinic.example"),
        (4, "café.example"),
    ]
    assert sites.notes == ["the file is not UTF-8; it was read as Windows-1252"]
    with pytest.raises(InputError):
        read_sites(b"\x00\x01binary")


def test_triage_flags_what_cannot_be_checked_and_repeats() -> None:
    sites = read_sites(b"a.example\nhttp://A.example/\nftp://b.example\n" + b"x" * 3000)
    states = [(t.state, t.error) for t in triage(sites.items)]
    assert states[0] == ("pending", None)
    assert states[1] == ("skipped", "duplicate of line 1; that line's result is shown")
    assert states[2][0] == "error" and "only http and https" in states[2][1]
    assert states[3] == ("error", "this is too long to be a web address")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(value: str) -> None:
    assert neutralize(value) == "'" + value
    assert neutralize("clinic " + value) == "clinic " + value


def test_csv_and_xlsx_cells_never_become_formulas() -> None:
    rows = [{"url": "=cmd|' /C calc'!A0", "score": 12, "prices": ["$1", "-$2"], "x": "\x01=2"}]
    header = ["url", "score", "prices", "x"]
    text = render(rows, header, "csv").decode("utf-8-sig")
    assert text.splitlines()[1] == "'=cmd|' /C calc'!A0,12,$1; -$2,\x01=2"
    sheet = load_workbook(io.BytesIO(render(rows, header, "xlsx"))).active
    values = [c.value for c in sheet[2]]
    assert values == ["'=cmd|' /C calc'!A0", 12, "$1; -$2", "'=2"]  # control byte gone first
    assert all(c.data_type != "f" for c in sheet[2])


def test_a_repeat_shows_the_result_of_its_first_line() -> None:
    items = [
        {
            "position": 1,
            "url": "a.example",
            "normalized_url": "http://a.example/",
            "state": "done",
            "report_id": "r1",
            "verdict": "caution",
            "score": 40,
            "result": {"counts": {"red_flag": 2}},
        },
        {
            "position": 2,
            "url": "A.example",
            "normalized_url": "http://a.example/",
            "state": "skipped",
            "error": "duplicate of line 1",
            "columns": {"case": "B"},
        },
    ]
    rows = table_rows(items, ["case", "score"], lambda rid: f"/r/{rid}")
    assert rows[1]["report_url"] == "/r/r1" and rows[1]["score"] == 40
    assert rows[1]["state"] == "skipped" and rows[1]["case"] == "B"
    assert rows[1]["input_score"] == ""  # an input column named like a result column
