"""Labelled samples as the pages the engine reads (the cache holds plain text)."""

from __future__ import annotations

from pathlib import Path

from app.engine.types import Report
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.training.corpus import Sample


def sample_page(sample: Sample) -> ExtractedPage:
    return extract_document(sample.text.encode("utf-8"), sample.id, content_type="text/plain")


def entry_text(path: Path) -> str:
    """A dev-corpus page's extracted text (the model learns from what the engine will see)."""
    return extract_document(path.read_bytes(), str(path), content_type="text/html").text


def ranking_score(report: Report) -> int:
    """The score sites are ranked by for AUROC and thresholds: a site that was not judged
    (not about cell treatment) has no score and ranks with the lowest."""
    return report.score if report.score is not None else 0
