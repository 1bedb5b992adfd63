"""Reading site lists and writing result tables: every row kept, formulas made harmless."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.engine.types import Report
from app.jobs.export import neutralize, render
from app.jobs.inputs import InputError, read_sites, triage
from app.jobs.results import summarize, table_rows
from app.jobs.summary import DEFAULT_SORT, sort_rows
from tests.web.reports import applicability, finding, make_report


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


def _item(position: int, report: Report) -> dict[str, object]:
    return {
        "position": position,
        "url": f"site{position}.example",
        "normalized_url": f"http://site{position}.example/",
        "state": "done",
        "report_id": f"r{position}",
        "verdict": report.verdict,
        "score": report.score,
        "result": summarize(report),
    }


def test_only_judged_sites_have_a_score_and_only_sellers_reassuring_signs() -> None:
    """Issue 11: an unreadable site is not a score of 0 among the low-risk rows, a site not
    about cell treatment has no score or signs, and a news page has no reassuring signs."""
    signs = [finding(), finding("mitigating", "Describes the risks", match="risks", quote="risks")]
    reports = [
        make_report(score=55, verdict="caution", findings=signs),  # a seller
        make_report(score=None, verdict="unreadable", findings=[], warnings=["the site timed out"]),
        make_report(
            score=None,
            verdict="not_applicable",
            applicability=applicability("unrelated"),
            findings=[],
        ),
        make_report(
            score=5, verdict="low_risk", applicability=applicability("discusses"), findings=signs
        ),
    ]
    rows = table_rows([_item(i, r) for i, r in enumerate(reports, 1)], [], lambda r: f"/r/{r}")
    assert [r["score"] for r in rows] == [55, None, None, 5]
    assert [(r["red_flags"], r["reassuring"]) for r in rows] == [(1, 1), (0, 0), (0, 0), (1, 0)]
    by_score = sort_rows(rows, "score", "desc")
    assert [r["line"] for r in by_score] == [1, 4, 2, 3]  # the unjudged apart, at the end
    assert [r["line"] for r in sort_rows(rows, "score", "asc")] == [4, 1, 2, 3]
    csv_line = render(rows[1:2], ["line", "verdict", "score"], "csv").decode("utf-8-sig")
    assert csv_line.splitlines()[1] == "2,unreadable,"


def test_equal_scores_rank_the_likelier_seller_first() -> None:
    """Most honest sites and many unsure sellers score 0: among equal scores the table puts
    first the site that reads more like an offer of treatment, and says how much it does."""
    reports = [
        make_report(score=0, verdict="low_risk", applicability=applicability("discusses")),
        make_report(score=0, verdict="low_risk", applicability=applicability("offers_treatment")),
        make_report(score=40, verdict="caution", applicability=applicability("discusses")),
    ]
    rows = table_rows([_item(i, r) for i, r in enumerate(reports, 1)], [], lambda r: f"/r/{r}")
    assert [r["selling"] for r in rows] == [0.2, 0.9, 0.2]
    assert [r["line"] for r in sort_rows(rows, "score", "desc")] == [3, 2, 1]
    assert [r["line"] for r in sort_rows(rows, "score", "asc")] == [1, 2, 3]


def test_by_verdict_the_likelier_seller_comes_first_and_that_is_the_default() -> None:
    """A seller held at caution by the floor (low score) still ranks above every site called
    low risk; within a verdict the site that reads more like an offer of treatment comes first,
    then the higher score."""
    reports = [
        make_report(score=40, verdict="low_risk", applicability=applicability("discusses")),
        make_report(score=12, verdict="caution", applicability=applicability("offers_treatment")),
        make_report(score=70, verdict="caution", applicability=applicability("discusses")),
        make_report(score=0, verdict="low_risk", applicability=applicability("offers_treatment")),
    ]
    rows = table_rows([_item(i, r) for i, r in enumerate(reports, 1)], [], lambda r: f"/r/{r}")
    assert [r["line"] for r in sort_rows(rows, "verdict", "desc")] == [2, 3, 4, 1]
    assert [r["line"] for r in sort_rows(rows, "score", "desc")] == [3, 1, 2, 4]
    assert DEFAULT_SORT == ("verdict", "desc")


def test_xlsx_opens_ready_to_sort_with_links_and_a_legend() -> None:
    """Issue 11: a frozen, filterable header, sized columns, report links that click, a sheet
    that explains the columns and a legend from table names to words."""
    rows = [
        {
            "line": 1,
            "url": "a.example",
            "verdict": "high_risk",
            "score": 80,
            "top_findings": ["cure_claim"],
            "report_url": "http://127.0.0.1:8000/r/abc",
            "case": "C-1",
        },
        {
            "line": 2,
            "url": "b.example",
            "verdict": "unreadable",
            "score": None,
            "report_url": None,
            "case": "C-2",
        },
    ]
    header = ["line", "url", "verdict", "score", "top_findings", "report_url", "case"]
    book = load_workbook(io.BytesIO(render(rows, header, "xlsx")))
    assert book.sheetnames == ["results", "columns", "legend"]
    results = book["results"]
    assert results.freeze_panes == "A2"
    assert results.auto_filter.ref == "A1:G3"
    assert results["A1"].font.bold
    assert results.column_dimensions["F"].width > len("report_url")
    assert results["F2"].hyperlink.target == "http://127.0.0.1:8000/r/abc"
    assert results["F3"].value is None and results["F3"].hyperlink is None
    explained = {r[0]: r[1] for r in book["columns"].iter_rows(min_row=2, values_only=True)}
    assert set(explained) == set(header)
    assert "empty when the site was not judged" in explained["score"]
    assert explained["case"] == "A column of your list, carried through."
    legend = {r[0]: r[1] for r in book["legend"].iter_rows(min_row=2, values_only=True)}
    assert legend["high_risk"] == "High risk" and legend["cure_claim"] == "Promises a cure"
    assert legend["unreadable"] == "Could not read this site"
