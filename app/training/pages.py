"""Labelled samples as the pages the engine reads (the cache holds plain text)."""

from __future__ import annotations

from pathlib import Path

from app.engine.types import Report
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.training.corpus import Sample


def sample_page(sample: Sample) -> ExtractedPage:
    """The page as the engine reads it, at its web address where it has one (the page-type
    model reads the address's words)."""
    source = sample.url or sample.id
    return extract_document(sample.text.encode("utf-8"), source, content_type="text/plain")


def entry_text(path: Path) -> str:
    """A dev-corpus page's extracted text (the model learns from what the engine will see)."""
    return extract_document(path.read_bytes(), str(path), content_type="text/html").text


def score_of(report: Report) -> int:
    """The score verdict thresholds are set on: a site that was not judged (not about cell
    treatment) has no score and counts as 0."""
    return report.score if report.score is not None else 0


def ranking_score(report: Report) -> float:
    """The order sites are ranked in for AUROC: by score, and among equal scores by how much
    the site reads as an offer of treatment (P(offers), below one point). Most honest pages
    and many unsure sellers score 0; the page-type model still tells them apart, and a
    screening list sorted this way puts the likelier sellers first."""
    offers = report.applicability.offers_score if report.applicability else 0.0
    return score_of(report) + min(offers, 0.999)
