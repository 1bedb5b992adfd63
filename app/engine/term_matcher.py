"""``TermMatcher``: the rules' phrases, lemmas and anchored token patterns as one component.

Registered as the ``redflags_terms`` factory in ``factories``; like the other components it takes
its patterns at initialise time and saves them with the pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import srsly
from spacy.attrs import LOWER, NORM, ORTH
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

PATTERNS_FILE = "patterns.jsonl"


ANCHOR_ATTRS = {"LOWER": "LOWER", "NORM": "NORM", "TEXT": "ORTH", "ORTH": "ORTH"}
# The columns of ``Doc.to_array`` that the window pre-check reads, by phrase-matcher attr.
COLUMNS = {"LOWER": 0, "NORM": 1, "ORTH": 2}
ARRAY_ATTRS = [LOWER, NORM, ORTH]
# A pattern's literal tokens that must appear: (column, the values' hashes), one tuple a token.
Needs = tuple[tuple[int, frozenset[int]], ...]
# Found in nearly every line, like the stop words: an anchor on them tries a window at each one
# (a testimonial's closing "," or "." was 5,525 windows on the dev pages, its opening quote 293).
COMMON_PUNCTUATION = frozenset({",", ".", ";", ":", "!", "?"})


class TermMatcher:
    """Phrase, lemma and token patterns that write labelled spans to ``doc.spans[spans_key]``.

    Each pattern is a dict ``{"key", "kind", "words", ...}`` where kind is ``lower`` (words
    matched case-insensitively), ``lemma`` (words matched by dictionary form, lemmas given) or
    ``tokens`` (a spaCy Matcher pattern). The key becomes the span label.

    spaCy's Matcher tries every pattern at every token (measured: 0.4 µs per token per pattern,
    three times the tokenizer's cost for 30 patterns). Token patterns are therefore anchored: one
    literal word at a fixed distance from the pattern's start or end (the rarest-looking one)
    goes into fast hash-based phrase matchers, and the pattern's own Matcher only runs on the
    short window where a match could lie, and only when the window holds every other literal
    word the pattern cannot do without: a closing quote is everywhere, a closing quote with a
    dash after it is not (calling the Matcher on a window costs 6 µs, the check 0.5 µs).

    Lemmas are matched through NORM, which the lemmatizer fills with the lemma: spaCy checks
    LEMMA annotation by walking the whole Doc on every LEMMA matcher call.
    """

    def __init__(self, nlp: Language, spans_key: str) -> None:
        self.vocab = nlp.vocab
        self.common = frozenset(nlp.Defaults.stop_words) | COMMON_PUNCTUATION
        self.spans_key = spans_key
        self.patterns: list[dict[str, Any]] = []
        self._reset()

    def _reset(self) -> None:
        # The phrases and the token patterns' anchors share one matcher an attribute: each
        # matcher is a pass over the Doc, and a match's id says whether it is an anchor.
        self.phrases = {attr: PhraseMatcher(self.vocab, attr=attr) for attr in COLUMNS}
        self.anchored: dict[str, Matcher] = {}
        self.windows: dict[str, int] = {}
        self.needs: dict[str, list[Needs]] = {}
        self.anchor_of: dict[int, tuple[str, int, str]] = {}  # by match id: side, offset, key
        self.free = Matcher(self.vocab, validate=True)
        self._phrase_matchers: list[PhraseMatcher] = []

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        for pattern in patterns:
            key, kind = pattern["key"], pattern["kind"]
            if kind == "tokens":
                self._add_tokens(key, pattern["tokens"])
            elif kind == "lemma":
                lemmas = _norm_doc(self.vocab, pattern["words"], pattern["lemmas"])
                self.phrases["NORM"].add(key, [lemmas])
            elif kind == "lower":
                self.phrases["LOWER"].add(key, [Doc(self.vocab, words=pattern["words"])])
            else:
                raise ValueError(f"unknown pattern kind {kind!r}")
            self.patterns.append(pattern)
        # An empty matcher warns on every call, so only run the ones this component has.
        self._phrase_matchers = [m for m in self.phrases.values() if len(m)]

    def _add_tokens(self, key: str, tokens: list[dict[str, Any]]) -> None:
        tokens = [{("NORM" if k == "LEMMA" else k): v for k, v in t.items()} for t in tokens]
        anchor = _anchor(tokens, self.common)
        if anchor is None:
            self.free.add(key, [tokens])
            return
        side, offset, attr, values = anchor
        if key not in self.anchored:
            self.anchored[key] = Matcher(self.vocab, validate=True)
        self.anchored[key].add(key, [tokens])
        self.windows[key] = max(self.windows.get(key, 1), _max_length(tokens))
        self.needs.setdefault(key, []).append(_needs(tokens, self.vocab.strings))
        docs = [_norm_doc(self.vocab, [value], [value]) for value in values]
        label = f"{side}{offset}|{key}"
        self.phrases[attr].add(label, docs)
        self.anchor_of[self.vocab.strings.add(label)] = (side, offset, key)

    def _phrase_matches(
        self, doc: Doc
    ) -> tuple[list[tuple[int, int, int]], set[tuple[str, int, str]]]:
        """The phrases found, and where a token pattern may match: (side, where the match
        would start or end, key) for each anchor found."""
        found: list[tuple[int, int, int]] = []
        tries: set[tuple[str, int, str]] = set()
        for matcher in self._phrase_matchers:
            for match in matcher(doc):
                anchor = self.anchor_of.get(match[0])
                if anchor is None:
                    found.append(match)
                    continue
                side, offset, key = anchor
                edge = match[1] - offset if side == "f" else match[1] + offset + 1
                if 0 <= edge <= len(doc):
                    tries.add((side, edge, key))
        return found, tries

    def _token_matches(
        self, doc: Doc, tries: set[tuple[str, int, str]]
    ) -> list[tuple[int, int, int]]:
        found = list(self.free(doc)) if len(self.free) else []
        columns = doc.to_array(ARRAY_ATTRS).T.tolist() if tries else []
        # One Matcher per pattern: spaCy evaluates every set predicate of a Matcher at each
        # token it visits, so a shared Matcher would pay for all patterns in every window.
        for side, edge, key in sorted(tries):
            size = self.windows[key]
            start, end = (edge, edge + size) if side == "f" else (max(0, edge - size), edge)
            if not _may_match(columns, self.needs[key], start, end):
                continue
            if side == "f":
                window = doc[edge : edge + size]
                found += [(m, edge, edge + e) for m, s, e in self.anchored[key](window) if s == 0]
            else:
                first = max(0, edge - size)
                window = doc[first:edge]
                found += [
                    (m, first + s, edge)
                    for m, s, e in self.anchored[key](window)
                    if first + e == edge
                ]
        return found

    def __call__(self, doc: Doc) -> Doc:
        matches, tries = self._phrase_matches(doc)
        matches += self._token_matches(doc, tries)
        # The match id is the label's hash already: no look-up of the string and back.
        doc.spans[self.spans_key] = [
            Span(doc, start, end, label=match_id) for match_id, start, end in matches
        ]
        return doc

    def initialize(
        self,
        get_examples: Any = None,
        nlp: Language | None = None,
        patterns: list[dict[str, Any]] | None = None,
    ) -> None:
        self.patterns = []
        self._reset()
        self.add_patterns(patterns or [])

    def to_disk(self, path: Path, *, exclude: tuple[str, ...] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / PATTERNS_FILE, self.patterns)

    def from_disk(self, path: Path, *, exclude: tuple[str, ...] = ()) -> TermMatcher:
        self.patterns = []
        self._reset()
        self.add_patterns(list(srsly.read_jsonl(Path(path) / PATTERNS_FILE)))
        return self


def _anchor(
    tokens: list[dict[str, Any]], common: frozenset[str]
) -> tuple[str, int, str, list[str]] | None:
    """(side, offset, phrase-matcher attr, words) of the best literal token to look for first.

    Candidates are literal tokens at a fixed distance from the pattern's start ("f", counted
    from the start) or from its end ("b", counted from the end); the one with the fewest
    ``common`` values (stop words such as "be", "the", "most"; sentence punctuation) among its
    values is the rarest to find in text.
    """
    options = []
    for offset, token in enumerate(tokens):
        if _variable(token):
            break
        if (literal := _literal(token)) is not None:
            options.append(("f", offset, *literal))
    for offset, token in enumerate(reversed(tokens)):
        if _variable(token):
            break
        if (literal := _literal(token)) is not None:
            options.append(("b", offset, *literal))
    if not options:
        return None
    return min(options, key=lambda o: (sum(v in common for v in o[3]) / len(o[3]), len(o[3])))


def _needs(tokens: list[dict[str, Any]], strings: Any) -> Needs:
    """The literal tokens a match cannot do without (no operator), as hashes per column."""
    needs = []
    for token in tokens:
        if (literal := _literal(token)) is not None:
            attr, words = literal
            needs.append((COLUMNS[attr], frozenset(strings.add(w) for w in words)))
    return tuple(needs)


def _may_match(columns: list[list[int]], patterns: list[Needs], start: int, end: int) -> bool:
    """Does the window hold, in any order, every needed word of one of the key's patterns?"""
    for needs in patterns:
        for column, values in needs:
            if values.isdisjoint(columns[column][start:end]):
                break
        else:
            return True
    return False


def _variable(token: dict[str, Any]) -> bool:
    return token.get("OP") not in (None, "1", "!")


def _literal(token: dict[str, Any]) -> tuple[str, list[str]] | None:
    if token.get("OP") is not None:
        return None
    for attr, matcher_attr in ANCHOR_ATTRS.items():
        value = token.get(attr)
        words = [value] if isinstance(value, str) else None
        if isinstance(value, dict) and set(value) == {"IN"}:
            words = [str(v) for v in value["IN"]]
        if words is not None:
            return matcher_attr, [w.lower() for w in words] if attr == "LOWER" else words
    return None


def _norm_doc(vocab: Any, words: list[str], norms: list[str]) -> Doc:
    """A pattern Doc whose NORM column holds the given lemmas (see LowercaseLemmatizer)."""
    doc = Doc(vocab, words=words)
    for token, norm in zip(doc, norms, strict=True):
        token.norm_ = norm
    return doc


def _max_length(tokens: list[dict[str, Any]]) -> int:
    """Longest span a pattern can match; unbounded operators are refused by the rule loader."""
    total = 0
    for token in tokens:
        op = token.get("OP")
        if op in (None, "1", "?", "!"):
            total += 0 if op == "!" else 1
        elif op.startswith("{"):
            bounds = op.strip("{}").split(",")
            total += int(bounds[-1] or bounds[0])
        else:
            raise ValueError(f"operator {op!r} has no upper bound; use {{0,N}}")
    return total
