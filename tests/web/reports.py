"""Reports built by hand, to render pages without fetching anything."""

from __future__ import annotations

from typing import Any

from app.engine.types import Applicability, Evidence, Finding, PageInfo, Report

PAGE = "https://www.sunrise-clinic.com/treatments"


def evidence(quote: str, match: str, *, at: int = 100, url: str = PAGE) -> Evidence:
    """Evidence whose offsets point at ``match`` inside ``quote`` (quote starts at ``at``)."""
    offset = quote.index(match) if match else 0
    start = at + offset
    return Evidence(
        url=url, quote=quote, match=match, start=start, end=start + len(match), quote_start=at
    )


def finding(
    polarity: str = "red_flag",
    title: str = "Promises a cure",
    *,
    quote: str | None = None,
    match: str = "cure",
    url: str = PAGE,
    **changes: Any,
) -> Finding:
    quote = quote if quote is not None else "Our stem cells cure arthritis for good."
    values: dict[str, Any] = {
        "rule_id": "cure-claim",
        "category": "cure_claim",
        "polarity": polarity,
        "title": title,
        "weight": 25.0,
        "contribution": 25.0 if polarity != "mitigating" else -12.0,
        "explanation": "No stem-cell product cures arthritis.",
        "advice": "Ask for the published results of a registered trial.",
        "references": [
            "https://www.fda.gov/consumers/consumer-updates/fda-warns-about-stem-cell-therapies"
        ],
        "evidence": [evidence(quote, match, url=url)],
        "occurrences": 1,
    }
    values.update(changes)
    return Finding(**values)


def make_report(source: str = "https://www.sunrise-clinic.com/", **changes: Any) -> Report:
    values: dict[str, Any] = {
        "source": source,
        "score": 70,
        "verdict": "high_risk",
        "applicability": applicability("offers_treatment"),
        "summary": "This site shows 1 warning sign of an unregulated stem-cell clinic.",
        "findings": [finding()],
        "pages": [PageInfo(url=PAGE, title="Treatments | Sunrise", words=420, status=200)],
        "rules_version": "test",
        "engine_version": "test",
    }
    values.update(changes)
    return Report(**values)


def applicability(kind: str) -> Applicability:
    """A site of this kind, as the page-type model would type it."""
    offers = {"offers_treatment": 0.9, "discusses": 0.2, "unrelated": 0.05}[kind]
    return Applicability(kind=kind, offers_score=offers, discusses_score=1 - offers)
