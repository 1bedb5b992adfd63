"""Does the site offer stem-cell treatment, only discuss it, or is it about something else?

Driven by ``rules/applicability.yaml``: weighted cue phrases for the topic, for offering
("book a consultation", "our protocol") and for discussing ("according to", "researchers").
Absence signs only count against sites that offer treatment, and news or education pages
that quote clinics are judged in their own voice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from app.engine.nlp import APPLICABILITY_PREFIX, CONTEXT_PREFIX, NlpArtifacts
from app.engine.stage_config import ApplicabilityConfig
from app.engine.types import Applicability


class ApplicabilityJudge:
    def __init__(self, config: ApplicabilityConfig) -> None:
        self.weights = {name: spec.weight for name, spec in config.signals.items()}
        decision = config.decision
        self.per_phrase_cap = decision.per_phrase_cap
        self.min_topic = decision.min_topic
        self.offer_ratio = decision.offer_ratio
        self.storage_ratio = decision.storage_ratio

    def judge(self, artifacts: Sequence[NlpArtifacts]) -> Applicability:
        counts: dict[str, Counter[str]] = {name: Counter() for name in self.weights}
        offered = 0  # topic cues in the site's own, affirmative voice ("our stem cell protocol")
        for art in artifacts:
            voiced, negated = _voice_sentences(art)
            for hit in art.triggers:
                if not hit.key.startswith(APPLICABILITY_PREFIX):
                    continue
                signal, phrase = hit.key[len(APPLICABILITY_PREFIX) :].split("|", 1)
                if signal in counts:
                    counts[signal][phrase.lower()] += 1
                if signal == "topic" and hit.sent in voiced and hit.sent not in negated:
                    offered += 1
        scores = {
            name: self.weights[name] * sum(min(n, self.per_phrase_cap) for n in c.values())
            for name, c in counts.items()
        }
        topic, offers, discusses = (scores.get(k, 0.0) for k in ("topic", "offer", "discuss"))
        # The treatment named in the site's own voice ("unsere Stammzelltherapie") is itself an
        # offer, in whatever language the booking words are.
        offers += self.weights.get("offer", 1.0) * min(offered, self.per_phrase_cap)
        storage = scores.get("storage", 0.0)
        # A short page can name the treatment only once or twice, but if it does so in its own
        # voice ("nuestro tratamiento con células madre") it is about that treatment.
        if topic < self.min_topic and not offered:
            kind = "unrelated"
            reasons = [f"stem-cell or regenerative treatment is barely mentioned ({topic:g} cues)"]
        elif self.storage_ratio and storage >= topic * self.storage_ratio and storage > offers:
            kind = "unrelated"
            reasons = [
                f"the site sells cell storage (banking), not treatment ({storage:g} storage cues "
                f"vs {topic:g} topic and {offers:g} offering cues)"
            ]
        elif offers >= discusses * self.offer_ratio and offers > 0:
            kind = "offers_treatment"
            reasons = [f"offering cues outweigh discussing cues ({offers:g} vs {discusses:g})"]
        else:
            kind = "discusses"
            reasons = [f"discussing cues outweigh offering cues ({discusses:g} vs {offers:g})"]
        if offered:
            reasons.append(f"the treatment is named in the site's own voice ×{offered}")
        for name in ("offer", "discuss", "topic", "storage"):
            top = ", ".join(f"“{p}” ×{n}" for p, n in counts.get(name, Counter()).most_common(4))
            if top:
                reasons.append(f"{name}: {top}")
        return Applicability(
            kind=kind, offers_score=offers, discusses_score=discusses, reasons=reasons
        )


def _voice_sentences(art: NlpArtifacts) -> tuple[set[int], set[int]]:
    """Sentences with the site's first-person voice, and sentences with a negation."""
    voiced: set[int] = set()
    negated: set[int] = set()
    for hit in art.triggers:
        if hit.key.startswith(f"{CONTEXT_PREFIX}first_person|"):
            voiced.add(hit.sent)
        elif hit.key.startswith(f"{CONTEXT_PREFIX}negated|"):
            negated.add(hit.sent)
    return voiced, negated
