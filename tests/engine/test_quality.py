"""The quality floor on the dev corpus (the hidden set of real sites is the real test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.analyzer import Engine
from app.extract.files import load_site
from app.training.quality_dev import SiteResult, evaluate, per_flag_scores


@pytest.fixture(scope="module")
def results(engine: Engine, corpus: Path) -> list[SiteResult]:
    return evaluate(corpus, engine)


def test_high_risk_sites_are_flagged(results: list[SiteResult]) -> None:
    wrong = [
        (r.site, r.report.verdict)
        for r in results
        if r.expected_risk == "high" and r.report.verdict not in ("high_risk", "caution")
    ]
    assert not wrong


def test_low_risk_sites_stay_low(results: list[SiteResult]) -> None:
    wrong = [
        (r.site, r.report.verdict, r.report.score)
        for r in results
        if r.expected_risk == "low" and r.report.verdict not in ("low_risk", "not_applicable")
    ]
    assert not wrong


def test_per_flag_f1(results: list[SiteResult]) -> None:
    weak = {flag: round(s[5], 2) for flag, s in per_flag_scores(results).items() if s[5] < 0.9}
    assert not weak


def test_every_finding_has_evidence_on_its_page(results: list[SiteResult], corpus: Path) -> None:
    for result in results:
        for finding in result.report.findings:
            assert finding.evidence, f"{result.site}: {finding.rule_id} has no evidence"
            for ev in finding.evidence:
                assert ev.url.startswith(str(corpus / result.site))
                if ev.match:
                    assert ev.match in ev.quote


def test_seed_article_has_no_red_flag(engine: Engine, seed_article: Path) -> None:
    report = engine.analyze(load_site(str(seed_article), max_bytes=5_000_000), "seed")
    red = [(f.rule_id, f.evidence[0].quote) for f in report.findings if f.polarity == "red_flag"]
    assert not red
    assert report.verdict in ("low_risk", "not_applicable")
    assert report.applicability is not None and report.applicability.kind != "offers_treatment"
