"""Does each page offer stem-cell treatment, only discuss it, or is it about something else?

The page-type model (``pagetype.py``) gives each page a probability per type; the thresholds in
``rules/applicability.yaml`` turn them into the page's type, which decides whose voice a sentence
is in (``page_voice`` and ``site_policy`` in context.yaml). A site offers treatment when any of
its pages does, and is about something else only when all of them are. The report keeps the
probabilities and the words that moved them, so a type is never a bare verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.engine.pagetype import PageTypeModel, PageTypeResult, cue_label
from app.engine.stage_config import ApplicabilityConfig
from app.engine.types import Applicability, ApplicabilityKind, Cue, PageKind

_NAMES = {
    "offers_treatment": "offering stem-cell treatment",
    "discusses": "discussing stem-cell treatment without selling it",
    "unrelated": "about something else",
}


@dataclass(frozen=True, slots=True)
class PageTypes:
    """The site's applicability and every page's own reading, in page order."""

    applicability: Applicability
    results: tuple[PageTypeResult, ...]
    kinds: tuple[ApplicabilityKind, ...]


class ApplicabilityJudge:
    """What kind of page each page is (offers / discusses / unrelated) and the site's kind, with
    cues.
    """

    def __init__(
        self, config: ApplicabilityConfig, model: PageTypeModel, offers: float | None = None
    ) -> None:
        """``offers``: the threshold calibrated by ``make train`` (it replaces the one in
        applicability.yaml, which serves a model trained without calibration)."""
        self.config = config
        self.model = model
        self.offers = offers if offers is not None else config.offers

    def page_kind(self, result: PageTypeResult) -> ApplicabilityKind:
        if result.probabilities["offers_treatment"] >= self.offers:
            return "offers_treatment"
        if result.probabilities["unrelated"] >= self.config.unrelated:
            return "unrelated"
        return "discusses"

    def judge(
        self, texts: Sequence[str], urls: Sequence[str], languages: Sequence[str]
    ) -> PageTypes:
        results = tuple(
            self.model.predict(t, u, cues=self.config.cues_shown)
            for t, u in zip(texts, urls, strict=True)
        )
        if not results:
            empty = Applicability(kind="unrelated", offers_score=0.0, discusses_score=0.0)
            return PageTypes(empty, (), ())
        kinds = tuple(self.page_kind(r) for r in results)
        site: ApplicabilityKind = "discusses"
        if "offers_treatment" in kinds:
            site = "offers_treatment"
        elif all(k == "unrelated" for k in kinds):
            site = "unrelated"
        best = max(range(len(results)), key=lambda i: results[i].probabilities["offers_treatment"])
        chosen = results[best]
        cues = chosen.topic_cues if site == "unrelated" else chosen.offer_cues
        direction = ("on_topic", "off_topic") if site == "unrelated" else ("offers", "discusses")
        reasons = [
            f"the page-type model reads {urls[best]} as {_NAMES[kinds[best]]} "
            f"(P(offers) {chosen.probabilities['offers_treatment']:.2f}, "
            f"P(discusses) {chosen.probabilities['discusses']:.2f}, "
            f"P(unrelated) {chosen.probabilities['unrelated']:.2f})"
        ]
        if len(results) > 1:
            counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
            reasons.append(
                "pages: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
            )
        applicability = Applicability(
            kind=site,
            offers_score=round(chosen.probabilities["offers_treatment"], 4),
            discusses_score=round(chosen.probabilities["discusses"], 4),
            probabilities={k: round(v, 4) for k, v in chosen.probabilities.items()},
            cues=[
                Cue(
                    term=cue_label(c.term),
                    direction=direction[0] if c.contribution > 0 else direction[1],
                    contribution=round(c.contribution, 3),
                    url=urls[best],
                )
                for c in cues
            ],
            pages=[
                PageKind(
                    url=url,
                    kind=kind,
                    probabilities={k: round(v, 4) for k, v in r.probabilities.items()},
                    language=lang,
                )
                for url, kind, r, lang in zip(urls, kinds, results, languages, strict=True)
            ],
            reasons=reasons,
        )
        return PageTypes(applicability, results, kinds)
