"""The CLI's text report (``redflags analyze`` / ``check``)."""

from __future__ import annotations

from app.cli.render import render_text
from tests.web.reports import applicability, finding, make_report

LONG = "https://www.sunrise-regenerative-stem-cell-clinic.example/treatments/rheumatoid-arthritis"


def test_an_address_is_never_wrapped() -> None:
    """Issue 11: a wrapped address no longer opens when copied from a terminal."""
    report = make_report(findings=[finding(url=LONG)])
    text = render_text(report, width=40)
    assert any(LONG in line for line in text.splitlines())


def test_a_site_not_judged_has_no_score_and_a_news_page_no_reassurance() -> None:
    unrelated = make_report(
        score=None, verdict="not_applicable", applicability=applicability("unrelated"), findings=[]
    )
    assert "not scored" in render_text(unrelated) and "/100" not in render_text(unrelated)
    signs = [finding(), finding("mitigating", "Describes the risks", match="risks", quote="risks")]
    news = make_report(score=20, applicability=applicability("discusses"), findings=signs)
    assert "Warning signs (1)" in render_text(news)
    assert "Reassuring signs" not in render_text(news)
    assert "Reassuring signs (1)" in render_text(make_report(findings=signs))
