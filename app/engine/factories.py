"""The project's spaCy components, registered as typed factories.

Only this module and ``nlp.py`` import spaCy; later stages see plain artifacts. Patterns are handed
to components at initialise time and saved with the pipeline (``to_disk``), so loading a built
pipeline adds ready-made patterns instead of re-reading and re-lemmatising the rule files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy
import srsly
from spacy.attrs import LEMMA, LOWER, NORM, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

PATTERNS_FILE = "patterns.jsonl"
TABLE_FILE = "lemmas.msgpack"


class LowercaseLemmatizer:
    """Lookup lemmatizer that looks up the lowercased word.

    spaCy's lookup lemmatizer is case-sensitive, so 'Cured' or 'CELLS' keep their form and a
    LEMMA pattern for 'cure' would miss them (measured in notes/platform-facts.md).
    """

    def __init__(self, language: str = "en", table: dict[str, str] | None = None) -> None:
        self.language = language
        self.table: dict[str, str] = table or {}
        self._lemma_ids: dict[int, int] = {}  # LOWER hash -> lemma hash, filled as words come

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        # Work on the array of distinct lowercase words rather than on Token objects: creating
        # a Python Token per word cost more than the tokenizer itself (measured by make bench).
        lowers, inverse = numpy.unique(doc.to_array(LOWER), return_inverse=True)
        strings = doc.vocab.strings
        ids = self._lemma_ids
        lemmas = numpy.empty(len(lowers), dtype="uint64")
        for i, lower in enumerate(lowers.tolist()):
            lemma = ids.get(lower)
            if lemma is None:
                word = strings[lower]
                lemma = ids[lower] = strings.add(self.table.get(word, word))
            lemmas[i] = lemma
        column = lemmas[inverse.reshape(-1)]
        # NORM carries the lemma too: token patterns match lemmas through NORM because
        # spaCy's Matcher re-checks LEMMA annotation over the whole Doc on every call,
        # which made short-window matching 10x slower (see TermMatcher).
        doc.from_array([LEMMA, NORM], numpy.stack([column, column], axis=1))
        return doc

    def lemmatize(self, words: list[str]) -> list[str]:
        return [self.table.get(w.lower(), w.lower()) for w in words]

    def initialize(self, get_examples: Any = None, nlp: Language | None = None) -> None:
        # spaCy's Table is keyed by string hashes; the package's JSON keeps the words, which a
        # plain dict looks up faster and which we can lowercase.
        name = f"{self.language}_lemma_lookup.json.gz"
        data = resources.files("spacy_lookups_data") / "data" / name
        with resources.as_file(data) as path:
            table: dict[str, str] = srsly.read_gzip_json(path)
        self.table = {k.lower(): v.lower() for k, v in table.items() if k == k.lower()}
        if not self.table:
            raise RuntimeError(f"spacy-lookups-data has no lemma table {name}")

    def to_disk(self, path: Path, *, exclude: tuple[str, ...] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_msgpack(path / TABLE_FILE, self.table)

    def from_disk(self, path: Path, *, exclude: tuple[str, ...] = ()) -> LowercaseLemmatizer:
        self.table = dict(srsly.read_msgpack(Path(path) / TABLE_FILE))
        return self


class BlockBoundaries:
    """Start a sentence after every blank line, so sentences never run across two blocks."""

    def __call__(self, doc: Doc) -> Doc:
        firsts = []
        after_break = False
        for i, token in enumerate(doc):
            if token.is_space:
                after_break = after_break or "\n" in token.text
            elif after_break:
                firsts.append(i)
                after_break = False
        if firsts:
            # One array write: setting token.is_sent_start one token at a time costs O(n) each
            # (2 s for a 4,000-block page).
            starts = doc.to_array(SENT_START)
            starts[firsts] = 1
            doc.from_array([SENT_START], starts)
        return doc


ANCHOR_ATTRS = {"LOWER": "LOWER", "NORM": "NORM", "TEXT": "ORTH", "ORTH": "ORTH"}


class TermMatcher:
    """Phrase, lemma and token patterns that write labelled spans to ``doc.spans[spans_key]``.

    Each pattern is a dict ``{"key", "kind", "words", ...}`` where kind is ``lower`` (words
    matched case-insensitively), ``lemma`` (words matched by dictionary form, lemmas given) or
    ``tokens`` (a spaCy Matcher pattern). The key becomes the span label.

    spaCy's Matcher tries every pattern at every token (measured: 0.4 µs per token per pattern,
    three times the tokenizer's cost for 30 patterns). Token patterns are therefore anchored: one
    literal word at a fixed distance from the pattern's start or end (the rarest-looking one)
    goes into fast hash-based phrase matchers, and the pattern's own Matcher only runs on the
    short window where a match could lie.

    Lemmas are matched through NORM, which the lemmatizer fills with the lemma: spaCy checks
    LEMMA annotation by walking the whole Doc on every LEMMA matcher call.
    """

    def __init__(self, nlp: Language, spans_key: str) -> None:
        self.vocab = nlp.vocab
        self.stop_words = frozenset(nlp.Defaults.stop_words)
        self.spans_key = spans_key
        self.patterns: list[dict[str, Any]] = []
        self._reset()

    def _reset(self) -> None:
        self.lower = PhraseMatcher(self.vocab, attr="LOWER")
        self.lemma = PhraseMatcher(self.vocab, attr="NORM")
        self.anchored: dict[str, Matcher] = {}
        self.windows: dict[str, int] = {}
        self.free = Matcher(self.vocab, validate=True)
        self.anchors = {
            attr: PhraseMatcher(self.vocab, attr=attr) for attr in ("LOWER", "NORM", "ORTH")
        }
        self._phrase_matchers: list[Any] = []

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        for pattern in patterns:
            key, kind = pattern["key"], pattern["kind"]
            if kind == "tokens":
                self._add_tokens(key, pattern["tokens"])
            elif kind == "lemma":
                self.lemma.add(key, [_norm_doc(self.vocab, pattern["words"], pattern["lemmas"])])
            elif kind == "lower":
                self.lower.add(key, [Doc(self.vocab, words=pattern["words"])])
            else:
                raise ValueError(f"unknown pattern kind {kind!r}")
            self.patterns.append(pattern)
        # An empty matcher warns on every call, so only run the kinds this component has.
        self._phrase_matchers = [m for m in (self.lower, self.lemma) if len(m)]

    def _add_tokens(self, key: str, tokens: list[dict[str, Any]]) -> None:
        tokens = [{("NORM" if k == "LEMMA" else k): v for k, v in t.items()} for t in tokens]
        anchor = _anchor(tokens, self.stop_words)
        if anchor is None:
            self.free.add(key, [tokens])
            return
        side, offset, attr, values = anchor
        if key not in self.anchored:
            self.anchored[key] = Matcher(self.vocab, validate=True)
        self.anchored[key].add(key, [tokens])
        self.windows[key] = max(self.windows.get(key, 1), _max_length(tokens))
        docs = [_norm_doc(self.vocab, [value], [value]) for value in values]
        self.anchors[attr].add(f"{side}{offset}|{key}", docs)

    def _token_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        strings = self.vocab.strings
        tries: set[tuple[str, int, str]] = set()  # (side, where the match starts or ends, key)
        for matcher in self.anchors.values():
            if len(matcher):
                for match_id, position, _ in matcher(doc):
                    label, key = strings[match_id].split("|", 1)
                    side, offset = label[0], int(label[1:])
                    edge = position - offset if side == "f" else position + offset + 1
                    if 0 <= edge <= len(doc):
                        tries.add((side, edge, key))
        found = list(self.free(doc)) if len(self.free) else []
        # One Matcher per pattern: spaCy evaluates every set predicate of a Matcher at each
        # token it visits, so a shared Matcher would pay for all patterns in every window.
        for side, edge, key in sorted(tries):
            size = self.windows[key]
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
        matches = [m for matcher in self._phrase_matchers for m in matcher(doc)]
        matches += self._token_matches(doc)
        strings = self.vocab.strings
        doc.spans[self.spans_key] = [
            Span(doc, start, end, label=strings[match_id]) for match_id, start, end in matches
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
    tokens: list[dict[str, Any]], stop_words: frozenset[str]
) -> tuple[str, int, str, list[str]] | None:
    """(side, offset, phrase-matcher attr, words) of the best literal token to look for first.

    Candidates are literal tokens at a fixed distance from the pattern's start ("f", counted
    from the start) or from its end ("b", counted from the end); the one with the fewest
    stop words ("be", "the", "most") among its values is the rarest to find in text.
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
    return min(options, key=lambda o: (sum(v in stop_words for v in o[3]) / len(o[3]), len(o[3])))


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


@Language.factory("redflags_lemmatizer", assigns=["token.lemma"])
def make_lemmatizer(nlp: Language, name: str) -> LowercaseLemmatizer:
    return LowercaseLemmatizer(nlp.lang)


@Language.factory("redflags_blocks", assigns=["token.is_sent_start"])
def make_block_boundaries(nlp: Language, name: str) -> BlockBoundaries:
    return BlockBoundaries()


@Language.factory(
    "redflags_terms",
    assigns=["doc.spans"],
    requires=["token.lemma"],
    default_config={"spans_key": "candidates"},
)
def make_term_matcher(nlp: Language, name: str, spans_key: str) -> TermMatcher:
    return TermMatcher(nlp, spans_key)
