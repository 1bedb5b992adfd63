"""Each candidate match judged in its context: kept with its weight, or set aside with a reason.

A candidate is a rule's words (or an identifier) found in a sentence. Its context (negation,
hedging, attribution, questions, voice) rescales or removes it; then the ordered gates of
``gates`` may set it aside. On a page that may sell, an impersonal sign counts as the seller's
with the probability that the page sells.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.engine.context import ContextResolver, SentenceContext
from app.engine.findings import Kept, clip_quote
from app.engine.gates import Candidate, GateChain, first_reason
from app.engine.identifiers import IdentifierMatch, collect_identifiers, find_all
from app.engine.nlp import NlpArtifacts, Sentence
from app.engine.rule_schema import Rule
from app.engine.types import Adjustment, ApplicabilityKind, Decision, Evidence, Identifiers
from app.extract.page import Block, ExtractedPage, Region

# The page title and description, and links standing alone (menu items, "Pricing & Financing").
LABEL_KINDS = frozenset({"title", "meta", "link"})


@dataclass(slots=True)
class PageState:
    """One page as the judge reads it: text, NLP artefacts, sentence context, offsets."""

    page: ExtractedPage
    art: NlpArtifacts
    ctx: SentenceContext
    block_starts: list[int] = field(default_factory=list)
    sent_starts: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Place:
    """Where a candidate is and what its sentence's words say of it: the same whichever page
    type it is judged under (most red flags on a selling page are judged under two)."""

    block_index: int
    block: Block | None
    region: Region
    sentence: Sentence | None
    quote: tuple[int, int]  # the characters quoted as evidence
    triggered: list[tuple[str, str]]  # modifiers given by trigger words
    quoted: bool  # the match is inside quotation marks
    gates_asked: bool = False  # the place gates are asked at most once...
    gate_reason: str | None = None  # ...and this is what they said
    # every modifier that applies, by page type (the voice check and the judging both read it)
    modifiers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class Judge:
    """Keeps or sets aside every candidate of a site's pages."""

    def __init__(
        self,
        rules: Sequence[Rule],
        context: ContextResolver,
        gates: GateChain,
        seller_voice_from: float,
    ) -> None:
        self.rules_by_id = {r.id: r for r in rules}
        self.identifier_rules = [r for r in rules if r.match is not None and r.match.identifiers]
        self.context = context
        self.gates = gates
        self.seller_voice_from = seller_voice_from

    def decide(
        self,
        states: list[PageState],
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
                rule = self.rules_by_id.get(rule_id)
                if rule is None:
                    continue
                span = (start, end, tok_start, tok_end, sent)
                place = self._place(state, span)
                if rule.polarity != "red_flag":
                    outcome = self._judge(rule, pattern, index, state, span, place, kind, explain)
                else:
                    seller_too = p_offers >= self.seller_voice_from
                    # Read as discussion first: in the page's own voice it counts in full. When
                    # the seller's reading follows, a discussion reading that cannot be kept
                    # (no own-voice word) would only be replaced by it: not asked.
                    outcome = None
                    if not seller_too or self._in_own_voice(rule, place, "discusses"):
                        outcome = self._judge(
                            rule, pattern, index, state, span, place, "discusses", explain
                        )
                    if not isinstance(outcome, Kept) and seller_too:
                        seller = self._judge(
                            rule, pattern, index, state, span, place, "offers_treatment", explain
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
        self, state: PageState, matches: list[IdentifierMatch]
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

    def _place(self, state: PageState, span: tuple[int, int, int, int, int]) -> _Place:
        start, end, tok_start, tok_end, sent_index = span
        block_index = max(0, bisect.bisect_right(state.block_starts, start) - 1)
        block = state.page.blocks[block_index] if state.page.blocks else None
        sentence = state.art.sentences[sent_index] if state.art.sentences else None
        q_start, q_end = (sentence.start, sentence.end) if sentence else (start, end)
        # A token pattern may run past its sentence ("…six.” — Parent of …"): quote all of it.
        q_start, q_end = min(q_start, start), max(q_end, end)
        return _Place(
            block_index,
            block,
            block.region if block else "main",
            sentence,
            clip_quote(q_start, q_end, start, end),
            self.context.trigger_modifiers(state.ctx, sent_index, tok_start, tok_end, (start, end)),
            state.ctx.quoted(start, end),
        )

    def _modifiers(self, place: _Place, applicability: str) -> list[tuple[str, str]]:
        found = place.modifiers.get(applicability)
        if found is None:
            question = bool(place.sentence and place.sentence.question)
            found = place.modifiers[applicability] = self.context.with_page_voice(
                place.triggered, place.quoted, question, applicability
            )
        return found

    def _in_own_voice(self, rule: Rule, place: _Place, applicability: str) -> bool:
        """Whether the modifiers the voice gate needs under ``applicability`` are there."""
        needs = self.gates.voice.needs(applicability, rule.polarity)
        present = {name for name, _ in self._modifiers(place, applicability)} if needs else set()
        return all(name in present for name in needs)

    def _judge(
        self,
        rule: Rule,
        pattern: str,
        page_index: int,
        state: PageState,
        span: tuple[int, int, int, int, int],
        place: _Place,
        applicability: str,
        explain: bool,
    ) -> Kept | Decision | None:
        """Keep or set aside one candidate; the Decision record is built only to explain."""
        start, end = span[0], span[1]
        text = state.page.text
        block, sentence = place.block, place.sentence
        q_start, q_end = place.quote
        modifiers = self._modifiers(place, applicability)
        weight, adjustments, reason = self.context.apply(rule.context, modifiers, rule.weight)
        if reason is None:
            candidate = Candidate(
                rule=rule,
                text=text,
                region=place.region,
                block_kind=block.kind if block is not None else None,
                sentence=(sentence.start, sentence.end) if sentence is not None else None,
                present=frozenset(name for name, _ in modifiers),
                page_kind=applicability,
            )
            if not place.gates_asked:
                place.gate_reason = first_reason(self.gates.place, candidate)
                place.gates_asked = True
            reason = place.gate_reason or self.gates.voice(candidate)
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
        label = block is not None and (block.kind in LABEL_KINDS or place.region == "nav")
        return Kept(
            rule, page_index, place.block_index, group, evidence, round(weight, 2), decision, label
        )


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
