"""The project's spaCy components, registered as typed factories.

Only this module and ``nlp.py`` import spaCy; later stages see plain artifacts. Patterns are handed
to components at initialise time and saved with the pipeline (``to_disk``), so loading a built
pipeline adds ready-made patterns instead of re-reading and re-lemmatising the rule files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import srsly
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

    def __init__(self, table: dict[str, str] | None = None) -> None:
        self.table: dict[str, str] = table or {}

    def __call__(self, doc: Doc) -> Doc:
        table = self.table
        for token in doc:
            lower = token.lower_
            token.lemma_ = table.get(lower, lower)
        return doc

    def lemmatize(self, words: list[str]) -> list[str]:
        return [self.table.get(w.lower(), w.lower()) for w in words]

    def initialize(self, get_examples: Any = None, nlp: Language | None = None) -> None:
        # spaCy's Table is keyed by string hashes; the package's JSON keeps the words, which a
        # plain dict looks up faster and which we can lowercase.
        data = resources.files("spacy_lookups_data") / "data" / "en_lemma_lookup.json.gz"
        with resources.as_file(data) as path:
            table: dict[str, str] = srsly.read_gzip_json(path)
        self.table = {k.lower(): v.lower() for k, v in table.items() if k == k.lower()}
        if not self.table:
            raise RuntimeError("spacy-lookups-data has no English lemma table")

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
        starts_next = False
        for token in doc:
            if starts_next and not token.is_space:
                token.is_sent_start = True
                starts_next = False
            if token.is_space and "\n" in token.text:
                starts_next = True
        return doc


class TermMatcher:
    """Phrase, lemma and token patterns that write labelled spans to ``doc.spans[spans_key]``.

    Each pattern is a dict ``{"key", "kind", "words", ...}`` where kind is ``lower`` (words
    matched case-insensitively), ``lemma`` (words matched by dictionary form, lemmas given) or
    ``tokens`` (a spaCy Matcher pattern). The key becomes the span label.
    """

    def __init__(self, nlp: Language, spans_key: str) -> None:
        self.vocab = nlp.vocab
        self.spans_key = spans_key
        self.patterns: list[dict[str, Any]] = []
        self._reset()

    def _reset(self) -> None:
        self.lower = PhraseMatcher(self.vocab, attr="LOWER")
        self.lemma = PhraseMatcher(self.vocab, attr="LEMMA")
        self.tokens = Matcher(self.vocab, validate=True)
        self._active: list[Any] = []

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        for pattern in patterns:
            key, kind = pattern["key"], pattern["kind"]
            if kind == "tokens":
                self.tokens.add(key, [pattern["tokens"]])
            elif kind == "lemma":
                doc = Doc(self.vocab, words=pattern["words"], lemmas=pattern["lemmas"])
                self.lemma.add(key, [doc])
            elif kind == "lower":
                self.lower.add(key, [Doc(self.vocab, words=pattern["words"])])
            else:
                raise ValueError(f"unknown pattern kind {kind!r}")
            self.patterns.append(pattern)
        self._active = [m for m in (self.lower, self.lemma, self.tokens) if len(m)]

    def __call__(self, doc: Doc) -> Doc:
        # An empty matcher warns on every call, so only run the kinds this component has.
        matches = [m for matcher in self._active for m in matcher(doc)]
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


@Language.factory("redflags_lemmatizer", assigns=["token.lemma"])
def make_lemmatizer(nlp: Language, name: str) -> LowercaseLemmatizer:
    return LowercaseLemmatizer()


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
