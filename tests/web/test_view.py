"""The report's pieces prepared in Python: highlighting, safe links, labels."""

from __future__ import annotations

from typing import get_args

import pytest

from app.engine.analyzer import Engine
from app.engine.types import VERDICTS, Evidence, Verdict
from app.extract.page import ExtractedPage
from app.web import view
from tests.web.reports import evidence, finding


def test_highlight_marks_the_match_at_its_offsets() -> None:
    # The offsets point at the second "cure"; a case-blind search would have marked "Cure".
    ev = evidence("Cure now. We cure arthritis.", "cure")
    assert str(view.highlight(ev)) == "Cure now. We <mark>cure</mark> arthritis."


def test_highlight_falls_back_to_finding_the_words_when_offsets_are_off() -> None:
    ev = Evidence(
        url="u", quote="It CURES arthritis.", match="cures", start=5, end=10, quote_start=0
    )
    assert str(view.highlight(ev)) == "It <mark>CURES</mark> arthritis."


def test_the_fallback_marks_whole_words_never_a_neighbour() -> None:
    """Issue 11: the highlighted words are the ones matched, not "cure" inside "secure"."""
    ev = Evidence(url="u", quote="We secure a cure.", match="cure", start=50, end=54, quote_start=0)
    assert str(view.highlight(ev)) == "We secure a <mark>cure</mark>."


def test_selling_evidence_marks_the_words_the_model_read(engine: Engine) -> None:
    text = (
        "Our clinic offers stem cell therapy for knee arthritis and joint pain.\n\n"
        "Book your treatment package today; financing is available for every patient."
    )
    page = ExtractedPage(source="https://c.example/", text=text, blocks=())
    report = engine.analyze([page], page.source)
    selling = [f for f in report.findings if f.rule_id == "sells-cell-treatment"]
    assert selling, [f.rule_id for f in report.findings]
    for ev in selling[0].evidence:
        assert text[ev.start : ev.end] == ev.match != ""
        assert ev.quote[ev.start - ev.quote_start :][: len(ev.match)] == ev.match
        assert "<mark>" + ev.match + "</mark>" in str(view.highlight(ev))


@pytest.mark.parametrize("match", ["", "not in the quote"])
def test_highlight_without_a_match_shows_the_quote_unmarked(match: str) -> None:
    ev = Evidence(url="u", quote="A & B", match=match, start=0, end=len(match), quote_start=0)
    assert str(view.highlight(ev)) == "A &amp; B"


def test_highlight_escapes_the_quote_and_the_match() -> None:
    ev = evidence('x <script>alert(1)</script> " onmouseover="alert(2)', "<script>")
    html = str(view.highlight(ev))
    assert html == (
        "x <mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt; &#34; onmouseover=&#34;alert(2)"
    )


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://clinic.example/a?b=1", "https://clinic.example/a?b=1"),
        ("http://clinic.example", "http://clinic.example"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("/work/corpus/s01/index.html", None),  # a local file analysed from the CLI
        ("http:///no-host", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_href_links_only_to_web_addresses(url: str | None, href: str | None) -> None:
    assert view.safe_href(url) == href


@pytest.mark.parametrize(
    ("url", "label"),
    [
        (
            "https://www.fda.gov/consumers/consumer-updates/fda-warns-about-stem-cell-therapies",
            "FDA: FDA warns about stem cell therapies",
        ),
        ("https://doi.org/10.2217/rme-2017-0063", "Research article (doi 10.2217/rme-2017-0063)"),
        ("https://www.closerlookatstemcells.org/", "ISSCR, A Closer Look at Stem Cells"),
        ("https://unknown.example/report", "unknown.example"),
    ],
)
def test_reference_label_names_the_publisher(url: str, label: str) -> None:
    assert view.reference_label(url) == label


def test_points_in_words() -> None:
    assert view.points(finding(contribution=30.0)) == "Adds 30 points to the score"
    assert view.points(finding(contribution=-12.5)) == "Takes 12.5 points off the score"
    assert view.points(finding(contribution=1.0)) == "Adds 1 point to the score"


def test_every_verdict_has_words_and_a_shape() -> None:
    shapes = {v.icon for v in VERDICTS.values()}
    assert len(shapes) == len(VERDICTS)  # no two verdicts share a shape
    assert all(v.words for v in VERDICTS.values())
    assert set(VERDICTS) == set(get_args(Verdict))  # every verdict of the report contract
