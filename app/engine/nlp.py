"""The spaCy pipeline: assembled from the rule packs, saved under models/, loaded at start-up.

Everything outside this module and ``factories.py`` sees ``NlpArtifacts``: sentences and matched
terms with character and token offsets, no spaCy objects.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import spacy
import spacy.about
from spacy.attrs import IDX, SENT_START
from spacy.language import Language

from app import __version__
from app.engine.chunk_cache import ChunkCache
from app.engine.factories import SAVED_TOKENIZER, LowercaseLemmatizer  # registers factories
from app.engine.rulebook import RuleSet
from app.engine.stage_config import ContextConfig
from app.engine.term_matcher import TermMatcher

log = logging.getLogger(__name__)

# Bump when the way rules compile into patterns changes, so saved pipelines are rebuilt.
PIPELINE_FORMAT = 11
# One pipeline per language with its own tokenizer, lemma table and words; a page in any other
# language is read by the English one, whose word lists carry a few German words.
LANGUAGES = ("en", "es")
CONTEXT_PREFIX = "ctx|"
META_KEY = "redflags"


# Sentence and TermHit are named tuples, not frozen dataclasses: a 3,000-word page makes 900 of
# them, and a frozen dataclass's __init__ sets each field through object.__setattr__ (0.73 µs an
# object against 0.31).
class Sentence(NamedTuple):
    """A sentence of the page text, by character offsets."""

    start: int  # character offsets in the page text
    end: int
    tok_start: int
    tok_end: int
    question: bool


class TermHit(NamedTuple):
    """A rule or context term found by the pipeline, by character and token offsets."""

    key: str  # "rule-id|pattern" for candidates, "ctx|modifier|trigger" for context
    start: int
    end: int
    tok_start: int
    tok_end: int
    sent: int


@dataclass(frozen=True, slots=True)
class NlpArtifacts:
    """What the spaCy pipeline leaves for the later stages, as plain data."""

    sentences: tuple[Sentence, ...]
    candidates: tuple[TermHit, ...]
    triggers: tuple[TermHit, ...]
    token_starts: tuple[int, ...]  # character offset of every token, for mapping regex hits


class Pipelines(dict[str, Language]):
    """The pipelines by language; with ``load``, one not loaded yet is loaded the first time it
    is asked for (``redflags analyze`` of an English page never pays for the Spanish one)."""

    def __init__(
        self, loaded: dict[str, Language], load: Callable[[str], Language] | None = None
    ) -> None:
        super().__init__(loaded)
        self._load = load
        self._lock = threading.Lock()

    def __missing__(self, code: str) -> Language:
        if self._load is None or code not in LANGUAGES:
            raise KeyError(code)
        with self._lock:
            if code not in self:
                self[code] = self._load(code)
            return dict.__getitem__(self, code)


class NlpEngine:
    """Runs each text through its language's pipeline and turns each Doc into artifacts."""

    def __init__(self, pipelines: dict[str, Language]) -> None:
        if "en" not in pipelines:
            raise ValueError("the English pipeline is required: it reads every other language")
        self.pipelines = pipelines if isinstance(pipelines, Pipelines) else Pipelines(pipelines)
        self._chunks: dict[str, ChunkCache] = {}  # by language, made with its pipeline
        self._max_length = 0

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.pipelines["en"].meta.get(META_KEY, {}))

    def allow_length(self, chars: int) -> None:
        self._max_length = max(self._max_length, chars + 1)
        for nlp in self.pipelines.values():
            nlp.max_length = max(nlp.max_length, self._max_length)

    def pipeline_for(self, language: str) -> str:
        return language if language in LANGUAGES else "en"

    def _pipeline(self, code: str) -> tuple[Language, ChunkCache]:
        nlp = self.pipelines[code]
        nlp.max_length = max(nlp.max_length, self._max_length)  # loaded after allow_length
        chunks = self._chunks.get(code)
        if chunks is None:
            chunks = self._chunks.setdefault(code, ChunkCache(nlp.tokenizer))
        return nlp, chunks

    def process(
        self,
        texts: Sequence[str],
        languages: Sequence[str] | None = None,
        *,
        deadline: float | None = None,
    ) -> list[NlpArtifacts]:
        """Artifacts for each text; with a ``deadline`` (``time.monotonic()``), texts are read
        in order and reading stops once it has passed, so the result may be a shorter prefix
        (the first text is always read)."""
        codes = [self.pipeline_for(c) for c in languages] if languages else ["en"] * len(texts)
        if deadline is not None:
            read: list[NlpArtifacts] = []
            for text, code in zip(texts, codes, strict=True):
                if read and time.monotonic() >= deadline:
                    break
                nlp, chunks = self._pipeline(code)
                chunks.warm(text)
                read.append(_artifacts(nlp(text), text))
            return read
        out: list[NlpArtifacts | None] = [None] * len(texts)
        for code in dict.fromkeys(codes):
            indices = [i for i, c in enumerate(codes) if c == code]
            nlp, chunks = self._pipeline(code)
            for i in indices:
                chunks.warm(texts[i])
            docs = nlp.pipe([texts[i] for i in indices])
            for i, doc in zip(indices, docs, strict=True):
                out[i] = _artifacts(doc, texts[i])
        return [a for a in out if a is not None]


def _artifacts(doc: Any, text: str) -> NlpArtifacts:
    # ``text`` is the Doc's own text, passed in: ``doc.text`` rebuilds it from a Python object
    # per token, which took a sixth of the analysis time.
    token_starts = doc.to_array(IDX).tolist()
    if not token_starts:
        return NlpArtifacts((), (), (), ())
    # Sentence boundaries from the SENT_START column: no Span or Token objects per sentence.
    starts = doc.to_array(SENT_START)
    starts[0] = 1
    first = np.flatnonzero(starts == 1).tolist()
    bounds = [*first[1:], len(doc)]
    ends = [token_starts[b] if b < len(doc) else len(text) for b in bounds]
    sentences = tuple(
        Sentence(token_starts[a], end, a, b, text[token_starts[a] : end].rstrip().endswith("?"))
        for a, b, end in zip(first, bounds, ends, strict=True)
    )

    def hits(key: str) -> tuple[TermHit, ...]:
        out = []
        for span in doc.spans[key]:
            sent = bisect.bisect_right(first, span.start) - 1
            out.append(
                TermHit(span.label_, span.start_char, span.end_char, span.start, span.end, sent)
            )
        return tuple(out)

    return NlpArtifacts(sentences, hits("candidates"), hits("context"), tuple(token_starts))


# --- building and loading ----------------------------------------------------------------------


def build_pipeline(ruleset: RuleSet, language: str = "en") -> Language:
    """Assemble one language's pipeline from the rule packs and the context rules file."""
    nlp = spacy.blank(language)
    nlp.add_pipe("redflags_sentences")
    lemmatizer = nlp.add_pipe("redflags_lemmatizer")
    rule_terms = nlp.add_pipe(
        "redflags_terms", name="rule_terms", config={"spans_key": "candidates"}
    )
    context_terms = nlp.add_pipe(
        "redflags_terms", name="context_terms", config={"spans_key": "context"}
    )
    assert isinstance(lemmatizer, LowercaseLemmatizer)
    assert isinstance(rule_terms, TermMatcher) and isinstance(context_terms, TermMatcher)
    lemmatizer.initialize()
    rule_terms.initialize(patterns=_rule_patterns(ruleset, nlp, lemmatizer, language))
    context_terms.initialize(patterns=_context_patterns(ruleset.context, nlp, language))
    nlp.meta["name"] = "redflags"
    nlp.meta["version"] = __version__
    nlp.meta[META_KEY] = {
        "rules_version": ruleset.version,
        "engine_version": __version__,
        "pipeline_format": PIPELINE_FORMAT,
        "language": language,
        "spacy_version": spacy.about.__version__,
    }
    return nlp


def load_or_build(
    ruleset: RuleSet, models_dir: Path, *, save: bool = True, lazy: bool = False
) -> NlpEngine:
    """Load the saved pipelines (``models_dir/<language>``), rebuilding any that is missing or
    was built from other rules. ``lazy``: English now, the others when a page needs them (a
    one-off command; a service loads all before it forks its workers, which share them)."""

    def load(code: str) -> Language:
        return _load_or_build(ruleset, models_dir / code, code, save)

    codes = ("en",) if lazy else LANGUAGES
    return NlpEngine(Pipelines({code: load(code) for code in codes}, load if lazy else None))


def _load_or_build(ruleset: RuleSet, folder: Path, language: str, save: bool) -> Language:
    meta_file = folder / "meta.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8")).get(META_KEY, {})
        expected = (ruleset.version, __version__, PIPELINE_FORMAT)
        found = (meta.get("rules_version"), meta.get("engine_version"), meta.get("pipeline_format"))
        if found == expected:
            return spacy.load(
                folder, config={"nlp": {"tokenizer": {"@tokenizers": SAVED_TOKENIZER}}}
            )
        log.warning("pipeline in %s is stale (other rules or engine); rebuilding", folder)
    nlp = build_pipeline(ruleset, language)
    if save:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            nlp.to_disk(folder)
        except OSError as exc:  # a read-only install can still run from the fresh build
            log.warning("could not save the pipeline to %s: %s", folder, exc)
    return nlp


def _rule_patterns(
    ruleset: RuleSet, nlp: Language, lemmatizer: Any, language: str
) -> list[dict[str, Any]]:
    patterns: list[dict[str, Any]] = []
    for rule in ruleset.rules:
        spec = rule.match_for(language)
        if spec is None:
            continue
        for phrase in spec.phrases:
            patterns.append(_phrase(f"{rule.id}|phrase:{phrase}", phrase, nlp, None))
        for phrase in spec.lemmas:
            patterns.append(_phrase(f"{rule.id}|lemma:{phrase}", phrase, nlp, lemmatizer))
        for index, tokens in enumerate(spec.patterns, start=1):
            patterns.append(
                {
                    "key": f"{rule.id}|pattern#{index}",
                    "kind": "tokens",
                    "tokens": [token.for_spacy() for token in tokens],
                }
            )
        if spec.group_count:
            for group, phrases in spec.group_count.groups.items():
                for phrase in phrases:
                    patterns.append(_phrase(f"{rule.id}|group:{group}", phrase, nlp, lemmatizer))
    return patterns


def _context_patterns(config: ContextConfig, nlp: Language, language: str) -> list[dict[str, Any]]:
    modifiers, pseudo, terminators = config.phrases(language)
    patterns = []
    for name, phrases in modifiers.items():
        for phrase in phrases:
            patterns.append(_phrase(f"{CONTEXT_PREFIX}{name}|{phrase}", phrase, nlp, None))
    for kind, phrases in (("pseudo", pseudo), ("terminators", terminators)):
        for phrase in phrases:
            patterns.append(_phrase(f"{CONTEXT_PREFIX}{kind}|{phrase}", phrase, nlp, None))
    return patterns


def _phrase(key: str, phrase: str, nlp: Language, lemmatizer: Any | None) -> dict[str, Any]:
    words = [t.text for t in nlp.make_doc(phrase)]
    if lemmatizer is None:
        return {"key": key, "kind": "lower", "words": words}
    return {"key": key, "kind": "lemma", "words": words, "lemmas": lemmatizer.lemmatize(words)}
