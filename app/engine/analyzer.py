"""The engine: extracted pages in, one explained site-level report out.

Stages run in order: NLP (sentences, rule and context terms), identifiers (registry ids, IND
numbers, money), context (each candidate kept, rescaled or removed, with the reason),
applicability, site-level voice, grouping into findings, absence signs, scoring.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from app import __version__
from app.engine.applicability import ApplicabilityJudge
from app.engine.assembly import Assembler
from app.engine.context import ContextResolver
from app.engine.findings import make_finding, registry_verdict
from app.engine.gates import gates
from app.engine.judging import Judge, PageState
from app.engine.language import LANGUAGE_FOLDER, LanguageDetector, language_detector
from app.engine.nlp import NlpEngine, load_or_build
from app.engine.pagetype import PageTypeModel
from app.engine.rulebook import RuleSet, load_rules
from app.engine.scoring import Scorer
from app.engine.types import (
    ApplicabilityKind,
    Decision,
    Evidence,
    Finding,
    Identifiers,
    PageInfo,
    Report,
    TrialCheck,
)
from app.extract.page import ExtractedPage
from app.settings import Settings


class Engine:
    """Holds the loaded rules and pipeline; ``analyze`` is pure CPU work and thread-safe."""

    def __init__(
        self,
        ruleset: RuleSet,
        nlp: NlpEngine,
        pagetype: PageTypeModel,
        *,
        max_text_chars: int = 1_000_000,
        languages: LanguageDetector | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.nlp = nlp
        self.pagetype = pagetype
        self.languages = languages or language_detector()
        self.max_text_chars = max_text_chars
        nlp.allow_length(max_text_chars)
        self.context = ContextResolver(ruleset.context)
        calibration = pagetype.meta.get("calibration", {})
        self.applicability = ApplicabilityJudge(
            ruleset.applicability, pagetype, calibration.get("offers")
        )
        self.scorer = Scorer(ruleset.scoring, calibration.get("thresholds"))
        self._registry_rule_ids = {r.id for r in ruleset.rules if r.registry_verdict}
        self.judge = Judge(
            ruleset.rules,
            self.context,
            gates(ruleset.rules, ruleset.context),
            ruleset.applicability.seller_voice_from,
        )
        self.assembler = Assembler(ruleset, pagetype)

    @classmethod
    def load(
        cls,
        rules_dir: Path,
        models_dir: Path,
        pagetype_dir: Path,
        *,
        max_text_chars: int = 1_000_000,
        lazy: bool = False,
    ) -> Engine:
        """Load rules, pipeline and page-type model; a missing model raises ModelMissingError.
        ``lazy``: load a language's pipeline when a page first needs it (one-off commands)."""
        ruleset = load_rules(rules_dir)
        pagetype = PageTypeModel.load(pagetype_dir)
        nlp = load_or_build(ruleset, models_dir, lazy=lazy)
        # Kept unpacked beside the pipelines: py3langid's own archive takes 0.4 s to open.
        languages = language_detector(models_dir / LANGUAGE_FOLDER)
        return cls(ruleset, nlp, pagetype, max_text_chars=max_text_chars, languages=languages)

    @classmethod
    def from_settings(cls, settings: Settings, *, lazy: bool = False) -> Engine:
        return cls.load(
            settings.rules_dir,
            settings.models_dir,
            settings.pagetype_dir,
            max_text_chars=settings.max_text_chars,
            lazy=lazy,
        )

    # -- the whole analysis ---------------------------------------------------------------------

    def analyze(
        self,
        pages: Sequence[ExtractedPage],
        source: str,
        *,
        explain: bool = False,
        warnings: Sequence[str] = (),
        deadline: float | None = None,
    ) -> Report:
        """Analyse a site's pages. With a ``deadline`` (``time.monotonic()``, the end of the
        site's time), pages are read in order until it passes; the rest are left out and the
        report says so (the first page is always read)."""
        pages = [_cap(page, self.max_text_chars) for page in pages]
        if not any(p.word_count for p in pages):
            return self._no_text(pages, source, warnings)
        languages = [self.languages.detect(p.text) for p in pages]
        artifacts = self.nlp.process([p.text for p in pages], languages, deadline=deadline)
        if len(artifacts) < len(pages):
            left = [p.source for p in pages[len(artifacts) :]]
            warnings = [
                *warnings,
                f"time for the site ran out after analysing {len(artifacts)} of {len(pages)} "
                f"pages; not analysed: {', '.join(left[:5])}{' …' if len(left) > 5 else ''}",
            ]
            pages, languages = pages[: len(artifacts)], languages[: len(artifacts)]
        states = [
            PageState(
                page,
                art,
                self.context.index(page.text, art),
                [b.start for b in page.blocks],
                [s.start for s in art.sentences],
            )
            for page, art in zip(pages, artifacts, strict=True)
        ]
        types = self.applicability.judge(
            [p.text for p in pages], [p.source for p in pages], languages
        )
        applicability = types.applicability
        identifiers = Identifiers()
        offers = [r.probabilities["offers_treatment"] for r in types.results]
        if applicability.kind == "offers_treatment":
            # A seller's other pages (prices, "our research", travel) are its own pages too,
            # however they read alone: their unattributed sentences are the seller's voice.
            offers = [max(offers)] * len(offers)
        kept, discarded = self.judge.decide(
            states, types.kinds, offers, identifiers, explain=explain
        )
        findings = self.assembler.rule_findings(kept, explain, discarded)
        findings += self.assembler.page_type_findings(states, types, explain)
        findings += self.assembler.absences(findings, states, applicability.kind)
        score, verdict = self.scorer.score(findings, applicability.kind)
        if verdict == "not_applicable":
            findings, discarded = [], discarded + _not_judged(findings)
        findings.sort(key=lambda f: (-abs(f.contribution), f.rule_id))
        page_infos = [
            PageInfo(url=p.source, title=p.title, words=p.word_count, warnings=list(p.warnings))
            for p in pages
        ]
        all_warnings = list(warnings) + [w for p in pages for w in p.warnings]
        return Report(
            source=source,
            language=Counter(languages).most_common(1)[0][0] if languages else "en",
            score=score,
            verdict=verdict,
            applicability=applicability,
            summary=self.scorer.summary(verdict, applicability.kind, findings),
            findings=findings,
            identifiers=identifiers,
            pages=page_infos,
            rules_version=self.ruleset.version,
            engine_version=__version__,
            warnings=list(dict.fromkeys(all_warnings)),
            discarded=discarded if explain else None,
        )

    def _no_text(
        self, pages: Sequence[ExtractedPage], source: str, warnings: Sequence[str]
    ) -> Report:
        """Pages without a word: nothing to judge, and that must never read as "no red flags"."""
        return Report(
            source=source,
            score=None,
            verdict="unreadable",
            applicability=None,
            summary=(
                "We found no text on this page (it may be empty, or built by scripts that we do "
                "not run), so we cannot say anything about it."
            ),
            pages=[
                PageInfo(url=p.source, title=p.title, words=0, warnings=list(p.warnings))
                for p in pages
            ],
            rules_version=self.ruleset.version,
            engine_version=__version__,
            warnings=list(dict.fromkeys([*warnings, *(w for p in pages for w in p.warnings)])),
        )

    def add_trial_checks(self, report: Report, checks: Sequence[TrialCheck]) -> Report:
        """Fold registry checks into the report as findings of the ``registry_verdict`` rules.

        The engine never asks the registry itself; the caller (``app.pipeline.check``) does and
        hands the answers in, so offline analysis and tests stay free of network access.
        """
        if not checks:
            return report
        findings = [f.model_copy() for f in report.findings]
        for rule in self.ruleset.rules:
            hits = [c for c in checks if registry_verdict(c) == rule.registry_verdict]
            if rule.registry_verdict is None or not hits:
                continue
            evidence = [
                Evidence(
                    url=c.url, quote=c.verdict_reason, match=c.nct_id, start=0, end=0, quote_start=0
                )
                for c in hits
            ]
            findings.append(make_finding(rule, rule.weight, evidence, None))
        if all(registry_verdict(c) in ("red_flag", "patient_funded") for c in checks):
            # A number that the registry contradicts is no reassurance.
            findings = [
                f
                for f in findings
                if f.category != "trial_registration_id" or f.rule_id in self._registry_rule_ids
            ]
        kind = report.applicability.kind if report.applicability else None
        score, verdict = self.scorer.score(findings, kind)
        if verdict == "not_applicable":
            findings = []
        findings.sort(key=lambda f: (-abs(f.contribution), f.rule_id))
        return report.model_copy(
            update={
                "findings": findings,
                "score": score,
                "verdict": verdict,
                "summary": self.scorer.summary(verdict, kind, findings),
                "trial_checks": list(checks),
            }
        )

    def rule_hits(
        self,
        text: str,
        page_kind: ApplicabilityKind = "offers_treatment",
        language: str = "en",
        p_offers: float | None = None,
    ) -> set[str]:
        """Ids of the rules that fire on one text in ``language``, read as a page of this type
        (rule examples: a one-line example is too short to detect its language reliably) with
        this P(offers) (1 on a selling page, 0 on another, unless given)."""
        page = ExtractedPage(source="example", text=text, blocks=())
        art = self.nlp.process([text], [language])[0]
        state = PageState(
            page, art, self.context.index(text, art), [], [s.start for s in art.sentences]
        )
        offers = p_offers if p_offers is not None else float(page_kind == "offers_treatment")
        kept, _ = self.judge.decide([state], (page_kind,), (offers,), Identifiers(), explain=False)
        return {f.rule_id for f in self.assembler.rule_findings(kept, explain=False)}


def _not_judged(findings: list[Finding]) -> list[Decision]:
    """The explained decisions of a site that is not judged, each set aside saying why."""
    reason = "the site is not about cell treatment, so nothing on it is judged as a sign"
    return [
        decision.model_copy(update={"kept": False, "reason": reason})
        for finding in findings
        for decision in finding.decisions or ()
    ]


def _cap(page: ExtractedPage, limit: int) -> ExtractedPage:
    """Cut a page's text at the last block that fits, so one huge page cannot stall the engine."""
    if len(page.text) <= limit:
        return page
    blocks = tuple(b for b in page.blocks if b.end <= limit)
    end = blocks[-1].end if blocks else limit
    note = f"page text was longer than {limit:,} characters; only the first {end:,} were analysed"
    return replace(page, text=page.text[:end], blocks=blocks, warnings=(*page.warnings, note))
