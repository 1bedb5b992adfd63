"""Labelled samples as the pages the engine reads (the cache holds plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.engine.types import Report, ranking
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


def ranking_key(report: Report) -> tuple[int, float, int]:
    """The order sites are ranked in, for AUROC and in a batch table sorted by verdict: by
    verdict, then by how strongly the site reads as an offer of treatment (P(offers)), then by
    score. A verdict already holds the score's band; within one, the page-type model tells an
    unsure seller from an honest page better than a few points of signs do (out of fold on the
    real corpus: AUROC 0.947 ranked by score then P(offers), 0.951 this way), and a seller held
    at caution by the floor is never ranked below a site called low risk."""
    offers = report.applicability.offers_score if report.applicability else None
    return ranking(report.verdict, offers, report.score)


def ranks(keys: Sequence[tuple[int, float, int]]) -> list[int]:
    """Each key's place in ascending order, equal keys sharing one: what AUROC needs of them."""
    order = {key: place for place, key in enumerate(sorted(set(keys)))}
    return [order[key] for key in keys]
