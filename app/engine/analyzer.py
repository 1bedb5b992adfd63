"""The engine: extracted pages in, one explained site-level report out.

Stages run in order: NLP (sentences, rule and context terms), identifiers (registry ids, IND
numbers, money), context (each candidate kept, rescaled or removed, with the reason),
applicability, site-level voice, grouping into findings, absence signs, scoring.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app import __version__
from app.engine.applicability import ApplicabilityJudge, PageTypes
from app.engine.context import ContextResolver, SentenceContext
from app.engine.findings import Kept, clip_quote, group_window, make_finding, registry_verdict
from app.engine.gates import Candidate, first_reason, gates
from app.engine.identifiers import IdentifierMatch, collect_identifiers, find_all
from app.engine.language import language_detector
from app.engine.nlp import NlpArtifacts, NlpEngine, load_or_build
from app.engine.pagetype import PageTypeModel, offer_sentences
from app.engine.rulebook import Rule, RuleSet, load_rules
from app.engine.scoring import Scorer
from app.engine.types import (
    Adjustment,
    ApplicabilityKind,
    Decision,
    Evidence,
    Finding,
    Identifiers,
    PageInfo,
    Report,
    TrialCheck,
)
from app.extract.page import ExtractedPage, Region
from app.settings import Settings


@dataclass(slots=True)
class _PageState:
    page: ExtractedPage
    art: NlpArtifacts
    ctx: SentenceContext
    block_starts: list[int] = field(default_factory=list)
    sent_starts: list[int] = field(default_factory=list)


class Engine:
    """Holds the loaded rules and pipeline; ``analyze`` is pure CPU work and thread-safe."""

    def __init__(
        self,
        ruleset: RuleSet,
        nlp: NlpEngine,
        pagetype: PageTypeModel,
        *,
        max_text_chars: int = 1_000_000,
    ) -> None:
        self.ruleset = ruleset
        self.nlp = nlp
        self.pagetype = pagetype
        self.languages = language_detector()
        self.max_text_chars = max_text_chars
        nlp.allow_length(max_text_chars)
        self.context = ContextResolver(ruleset.context)
        calibration = pagetype.meta.get("calibration", {})
        self.applicability = ApplicabilityJudge(
            ruleset.applicability, pagetype, calibration.get("offers")
        )
        self.scorer = Scorer(ruleset.scoring, calibration.get("thresholds"))
        self.seller_voice_from = ruleset.applicability.seller_voice_from
        self.page_type_rules = [r for r in ruleset.rules if r.page_type is not None]
        self.identifier_rules = [
            r for r in ruleset.rules if r.match is not None and r.match.identifiers
        ]
        self._registry_rule_ids = {r.id for r in ruleset.rules if r.registry_verdict}
        self.gates = gates(ruleset.rules, ruleset.context)

    @classmethod
    def load(
        cls,
        rules_dir: Path,
        models_dir: Path,
        pagetype_dir: Path,
        *,
        max_text_chars: int = 1_000_000,
    ) -> Engine:
        """Load rules, pipeline and page-type model; a missing model raises ModelMissingError."""
        ruleset = load_rules(rules_dir)
        pagetype = PageTypeModel.load(pagetype_dir)
        nlp = load_or_build(ruleset, models_dir)
        return cls(ruleset, nlp, pagetype, max_text_chars=max_text_chars)

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        return cls.load(
            settings.rules_dir,
            settings.models_dir,
            settings.pagetype_dir,
            max_text_chars=settings.max_text_chars,
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
            _PageState(
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
        kept, discarded = self._decide(states, types.kinds, offers, identifiers, explain=explain)
        findings = self._findings(kept, explain)
        findings += self._page_type_findings(states, types, explain)
        findings += self._absences(findings, states, applicability.kind)
        score, verdict = self.scorer.score(findings, applicability.kind)
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
        state = _PageState(
            page, art, self.context.index(text, art), [], [s.start for s in art.sentences]
        )
        offers = p_offers if p_offers is not None else float(page_kind == "offers_treatment")
        kept, _ = self._decide([state], (page_kind,), (offers,), Identifiers(), explain=False)
        return {f.rule_id for f in self._findings(kept, explain=False)}

    # -- candidates and context -----------------------------------------------------------------

    def _decide(
        self,
        states: list[_PageState],
        kinds: Sequence[ApplicabilityKind],
        offers: Sequence[float],
        identifiers: Identifiers,
        *,
        explain: bool,
    ) -> tuple[list[Kept], list[Decision]]:
        """Judge every candidate; ``offers`` is each page's P(offers_treatment).

        A warning sign in the page's own voice (we / our, or nobody else's words on a page that
        only discusses treatment) counts in full. An unattributed, impersonal one ("Stem cells
        regrow cartilage") is the seller's own only if the page sells: it counts with the
        probability that it does, from ``seller_voice_from`` up, so a page the model is unsure
        of keeps its evidence at a discount instead of losing it to a threshold.
        """
        kept: list[Kept] = []
        discarded: list[Decision] = []
        for index, (state, kind) in enumerate(zip(states, kinds, strict=True)):
            p_offers = offers[index]
            matches = find_all(state.page.text)
            collect_identifiers(identifiers, state.page, matches)
            for key, start, end, tok_start, tok_end, sent in self._candidates(state, matches):
                rule_id, pattern = key.split("|", 1)
                rule = self.ruleset.by_id.get(rule_id)
                if rule is None:
                    continue
                span = (start, end, tok_start, tok_end, sent)
                if rule.polarity != "red_flag":
                    outcome = self._judge(rule, pattern, index, state, span, kind, explain)
                else:
                    outcome = self._judge(rule, pattern, index, state, span, "discusses", explain)
                    if not isinstance(outcome, Kept) and p_offers >= self.seller_voice_from:
                        seller = self._judge(
                            rule, pattern, index, state, span, "offers_treatment", explain
                        )
                        # Set aside here too, the seller-voice reading's reason is the telling
                        # one (negated, a question...), not "not in its own voice".
                        outcome = (
                            _as_seller_voice(seller, p_offers)
                            if isinstance(seller, Kept)
                            else seller
                        )
                if isinstance(outcome, Kept):
                    kept.append(outcome)
                elif outcome is not None:
                    discarded.append(outcome)
        return kept, discarded

    def _candidates(
        self, state: _PageState, matches: list[IdentifierMatch]
    ) -> list[tuple[str, int, int, int, int, int]]:
        out = [
            (h.key, h.start, h.end, h.tok_start, h.tok_end, h.sent) for h in state.art.candidates
        ]
        starts = state.art.token_starts
        for match in matches:
            tok_start = max(0, bisect.bisect_right(starts, match.start) - 1)
            tok_end = max(tok_start + 1, bisect.bisect_left(starts, match.end))
            sent = max(0, bisect.bisect_right(state.sent_starts, match.start) - 1)
            for rule in self.identifier_rules:
                if rule.match is not None and match.kind in rule.match.identifiers:
                    key = f"{rule.id}|identifier:{match.kind}"
                    out.append((key, match.start, match.end, tok_start, tok_end, sent))
        return out

    def _judge(
        self,
        rule: Rule,
        pattern: str,
        page_index: int,
        state: _PageState,
        span: tuple[int, int, int, int, int],
        applicability: str,
        explain: bool,
    ) -> Kept | Decision | None:
        """Keep or set aside one candidate; the Decision record is built only to explain."""
        start, end, tok_start, tok_end, sent_index = span
        text = state.page.text
        block_index = max(0, bisect.bisect_right(state.block_starts, start) - 1)
        block = state.page.blocks[block_index] if state.page.blocks else None
        region: Region = block.region if block else "main"
        sentence = state.art.sentences[sent_index] if state.art.sentences else None
        q_start, q_end = (sentence.start, sentence.end) if sentence else (start, end)
        # A token pattern may run past its sentence ("…six.” — Parent of …"): quote all of it.
        q_start, q_end = min(q_start, start), max(q_end, end)
        q_start, q_end = clip_quote(q_start, q_end, start, end)
        modifiers = self.context.modifiers_for(
            state.ctx,
            sent_index,
            tok_start,
            tok_end,
            bool(sentence and sentence.question),
            (start, end),
            applicability,
        )
        weight, adjustments, reason = self.context.apply(rule.context, modifiers, rule.weight)
        if reason is None:
            candidate = Candidate(
                rule=rule,
                text=text,
                region=region,
                block_kind=block.kind if block is not None else None,
                sentence=(sentence.start, sentence.end) if sentence is not None else None,
                present=frozenset(name for name, _ in modifiers),
                page_kind=applicability,
            )
            reason = first_reason(self.gates, candidate)
        decision = None
        if explain:
            decision = Decision(
                rule_id=rule.id,
                pattern=pattern,
                match=text[start:end],
                url=state.page.source,
                quote=" ".join(text[q_start:q_end].split()),
                base_weight=rule.weight,
                adjustments=adjustments,
                weight=round(weight, 2),
                kept=reason is None,
                reason=reason,
            )
        if reason is not None:
            return decision
        group = pattern.split(":", 1)[1] if pattern.startswith("group:") else None
        evidence = Evidence.model_construct(
            url=state.page.source,
            quote=text[q_start:q_end].strip(),
            match=text[start:end],
            start=start,
            end=end,
            quote_start=q_start + (len(text[q_start:q_end]) - len(text[q_start:q_end].lstrip())),
        )
        return Kept(rule, page_index, block_index, group, evidence, round(weight, 2), decision)

    # -- findings -------------------------------------------------------------------------------

    def _findings(self, kept: list[Kept], explain: bool) -> list[Finding]:
        by_rule: dict[str, list[Kept]] = defaultdict(list)
        for item in kept:
            by_rule[item.rule.id].append(item)
        findings = []
        for rule_id, items in by_rule.items():
            rule = self.ruleset.by_id[rule_id]
            if rule.match is not None and rule.match.group_count is not None:
                items = group_window(
                    items, rule.match.group_count.min_groups, rule.match.group_count.within_blocks
                )
                if not items:
                    continue
            items.sort(key=lambda k: (k.page, k.evidence.start))
            evidence, seen = [], set()
            for item in items:
                where = (item.evidence.url, item.evidence.quote_start)
                if where not in seen:
                    seen.add(where)
                    evidence.append(item.evidence)
            findings.append(
                make_finding(
                    rule,
                    max(i.weight for i in items),
                    evidence,
                    [i.decision for i in items if i.decision] if explain else None,
                )
            )
        return findings

    def _page_type_findings(
        self, states: list[_PageState], types: PageTypes, explain: bool
    ) -> list[Finding]:
        """Selling is itself a sign: a finding weighted by the model's probability, with the
        sentences that pull the page hardest towards being an offer as its evidence."""
        out = []
        for rule in self.page_type_rules:
            if rule.page_type is None:
                continue
            # Like an impersonal sign, selling counts from seller_voice_from up, times P.
            pages = [
                i
                for i, result in enumerate(types.results)
                if result.probabilities[rule.page_type] >= self.seller_voice_from
            ]
            if not pages:
                continue
            best = max(pages, key=lambda i: types.results[i].probabilities[rule.page_type])
            probability = types.results[best].probabilities[rule.page_type]
            state = states[best]
            text = state.page.text
            spans = [(s.start, s.end) for s in state.art.sentences] or [(0, len(text))]
            limit = self.ruleset.applicability.evidence_sentences
            evidence = [
                Evidence(
                    url=state.page.source,
                    quote=" ".join(text[start:end].split())[:320],
                    match=term,
                    start=start,
                    end=end,
                    quote_start=start,
                )
                for start, end, term, _ in offer_sentences(
                    self.pagetype, types.results[best], text, spans, limit
                )
            ]
            weight = rule.weight * probability
            adjustment = Adjustment(
                modifier="page_type",
                trigger=f"P({rule.page_type}) = {probability:.2f}",
                effect="scale",
                factor=round(probability, 3),
            )
            decisions = [
                Decision(
                    rule_id=rule.id,
                    pattern=f"page_type:{rule.page_type}",
                    match=e.match,
                    url=e.url,
                    quote=e.quote,
                    base_weight=rule.weight,
                    adjustments=[adjustment],
                    weight=round(weight, 2),
                    kept=True,
                )
                for e in evidence
            ]
            out.append(make_finding(rule, weight, evidence, decisions if explain else None))
        return out

    def _absences(
        self, findings: list[Finding], states: list[_PageState], applicability: str
    ) -> list[Finding]:
        if applicability != "offers_treatment":
            return []
        present = {f.category for f in findings}
        words = sum(s.page.word_count for s in states)
        out = []
        for rule in self.ruleset.rules:
            if rule.polarity != "absence" or present.intersection(rule.absent):
                continue
            evidence = [
                Evidence(
                    url=s.page.source,
                    quote=f"Searched {s.page.word_count} words on this page: none mention it.",
                    match="",
                    start=0,
                    end=0,
                    quote_start=0,
                )
                for s in states
            ]
            finding = make_finding(rule, rule.weight, evidence, None)
            finding.explanation = (
                f"{rule.explanation} (Searched {len(states)} page(s), {words} words.)"
            )
            out.append(finding)
        return out


def _cap(page: ExtractedPage, limit: int) -> ExtractedPage:
    """Cut a page's text at the last block that fits, so one huge page cannot stall the engine."""
    if len(page.text) <= limit:
        return page
    blocks = tuple(b for b in page.blocks if b.end <= limit)
    end = blocks[-1].end if blocks else limit
    note = f"page text was longer than {limit:,} characters; only the first {end:,} were analysed"
    return replace(page, text=page.text[:end], blocks=blocks, warnings=(*page.warnings, note))


def _as_seller_voice(kept: Kept, p_offers: float) -> Kept:
    """An impersonal sign on a page that may sell: its weight times P(offers), said why."""
    weight = round(kept.weight * p_offers, 2)
    decision = kept.decision
    if decision is not None:
        adjustment = Adjustment(
            modifier="seller_voice",
            trigger=f"P(offers treatment) {p_offers:.2f}",
            effect="scale",
            factor=round(p_offers, 2),
        )
        decision = decision.model_copy(
            update={"adjustments": [*decision.adjustments, adjustment], "weight": weight}
        )
    return replace(kept, weight=weight, decision=decision)
