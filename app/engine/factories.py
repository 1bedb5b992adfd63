"""The project's spaCy components, registered as typed factories.

Only this module, ``term_matcher.py`` and ``nlp.py`` import spaCy; later stages see plain
artifacts. Patterns are handed to components at initialise time and saved with the pipeline
(``to_disk``), so loading a built pipeline adds ready-made patterns instead of re-reading and
re-lemmatising the rule files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy
import srsly
from spacy.attrs import IS_PUNCT, IS_SPACE, LEMMA, LOWER, NORM, ORTH, SENT_START
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import registry
from thinc.types import Ints2d

from app.engine.term_matcher import TermMatcher

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
        doc.from_array([LEMMA, NORM], cast(Ints2d, numpy.stack([column, column], axis=1)))
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


class SentenceStarts:
    """Where sentences start: spaCy's ``Sentencizer`` rule (a sentence ends after a run of
    sentence-final punctuation), and after every blank line, so sentences never run across two
    blocks.

    The same rule as the ``sentencizer`` and the block-break component this replaces, worked out
    on token arrays: those two walked the Doc one Python ``Token`` at a time (15% of the
    analysis), and a loop over the tokens' columns still took 1 ms for 3,700 tokens.
    """

    def __init__(self, punct_chars: frozenset[str] = frozenset(Sentencizer.default_punct_chars)):
        self.punct_chars = punct_chars
        # ORTH -> (the token is sentence-final punctuation, its text holds a newline)
        self._kinds: dict[int, tuple[bool, bool]] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        orth, is_punct, is_space = doc.to_array([ORTH, IS_PUNCT, IS_SPACE]).T
        # What each distinct word is, looked up once (a page repeats its words).
        words, inverse = numpy.unique(orth, return_inverse=True)
        strings, kinds = doc.vocab.strings, self._kinds
        is_final = numpy.empty(len(words), dtype=bool)
        newline = numpy.empty(len(words), dtype=bool)
        for i, word in enumerate(words.tolist()):
            if (kind := kinds.get(word)) is None:
                text = strings[word]
                kind = kinds[word] = (text in self.punct_chars, "\n" in text)
            is_final[i], newline[i] = kind
        is_final, newline = is_final[inverse], newline[inverse] & (is_space == 1)
        starts = numpy.full(len(doc), -1, dtype="int64")
        starts[0] = 1
        # spaCy's Sentencizer.predict: after final punctuation (and any punctuation after it),
        # the next token that is neither starts a sentence. So a token that is neither starts one
        # when the last token before it that is not other punctuation is final.
        plain = (is_punct == 0) & ~is_final
        told = numpy.flatnonzero(plain | is_final)
        starts[told[1:][plain[told[1:]] & is_final[told[:-1]]]] = 1
        # A blank line ends a block: the first token that is not a space after a run of spaces
        # holding a newline starts a sentence.
        words_at = numpy.flatnonzero(is_space == 0)
        before = numpy.concatenate(([0], numpy.cumsum(newline)))  # newlines before each token
        after_previous = numpy.concatenate(([0], words_at[:-1] + 1))
        starts[words_at[before[words_at] > before[after_previous]]] = 1
        # spaCy's arrays are uint64, -1 included (two's complement), as ``to_array`` gives them.
        doc.from_array([SENT_START], cast(Ints2d, starts.view("uint64")))
        return doc


@Language.factory("redflags_lemmatizer", assigns=["token.lemma"])
def make_lemmatizer(nlp: Language, name: str) -> LowercaseLemmatizer:
    """The ``redflags_lemmatizer`` component for ``nlp``'s language."""
    return LowercaseLemmatizer(nlp.lang or "en")


@Language.factory("redflags_sentences", assigns=["token.is_sent_start"])
def make_sentence_starts(nlp: Language, name: str) -> SentenceStarts:
    """The ``redflags_sentences`` component: sentence starts by punctuation and block breaks."""
    return SentenceStarts()


@Language.factory(
    "redflags_terms",
    assigns=["doc.spans"],
    requires=["token.lemma"],
    default_config={"spans_key": "candidates"},
)
def make_term_matcher(nlp: Language, name: str, spans_key: str) -> TermMatcher:
    """A ``redflags_terms`` component writing its matches to ``doc.spans[spans_key]``."""
    return TermMatcher(nlp, spans_key)


SAVED_TOKENIZER = "redflags.saved_tokenizer.v1"


def saved_tokenizer() -> Any:
    """A tokenizer with no rules of its own, for loading a saved pipeline: ``from_disk`` then
    gives it the saved ones. spaCy's default tokenizer first builds the language's 2,700
    special cases ("can't", "e.g.") only for loading to build them again (0.07 s of a cold
    start, measured)."""

    def create(nlp: Language) -> Tokenizer:
        return Tokenizer(nlp.vocab)

    return create


registry.tokenizers.register(SAVED_TOKENIZER, func=saved_tokenizer)
