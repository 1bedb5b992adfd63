"""The tokenizer cache warm-up: same tokens, special cases never warmed, memory bounded."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.analyzer import Engine
from app.engine.chunk_cache import ChunkCache

# Contractions and abbreviations are spaCy special cases; the words after them were never cached.
TEXTS = {
    "en": [
        "We can't promise miracles, e.g. in knee pain. Our stem cell therapy (Dr. Lee's patients "
        "welcome) repairs cartilage; don't wait: call 555-0100 at 9 a.m.!",
        "Don't believe every clinic. Stem cell therapy for knee pain is investigational.",
    ],
    "es": [
        "No es broma: la terapia con células madre, p. ej. para la artritis, cuesta 5.000 USD. "
        "¡Llame hoy! Atendemos pacientes de EE. UU. y Canadá.",
    ],
}


class Recording:
    """The real tokenizer, remembering each text it was given."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("tokenizer", "texts"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.tokenizer, name, value)

    def __call__(self, text: str) -> Any:
        self.texts.append(text)
        return self.tokenizer(text)


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_tokens_are_the_tokenizers_own(engine: Engine, code: str) -> None:
    nlp = engine.nlp.pipelines[code]
    fresh = type(nlp.tokenizer)(nlp.vocab).from_bytes(nlp.tokenizer.to_bytes())
    for text in TEXTS[code]:
        expected = [(t.text, t.idx, t.whitespace_) for t in fresh(text)]
        cache = ChunkCache(fresh)
        cache.warm(text)
        assert [(t.text, t.idx, t.whitespace_) for t in fresh(text)] == expected
        docs = engine.nlp.process([text], [code])
        assert docs[0].token_starts == tuple(i for _, i, _ in expected)


def test_special_cases_are_left_out_of_the_warm_up(engine: Engine) -> None:
    nlp = engine.nlp.pipelines["en"]
    spy = Recording(type(nlp.tokenizer)(nlp.vocab).from_bytes(nlp.tokenizer.to_bytes()))
    cache = ChunkCache(spy)
    cache.warm(TEXTS["en"][0])
    (warmed,) = spy.texts
    chunks = warmed.split()
    assert "cartilage;" in chunks and "welcome)" in chunks
    for special in ("can't", "e.g.", "(Dr.", "a.m.!"):
        assert special not in chunks
    cache.warm(TEXTS["en"][0])  # nothing new: the tokenizer is not called again
    assert len(spy.texts) == 1
    cache.warm(TEXTS["en"][1])  # only what the first text did not have
    assert "investigational." in spy.texts[1].split() and "knee" not in spy.texts[1].split()


def test_warm_up_stops_at_its_cap(engine: Engine) -> None:
    nlp = engine.nlp.pipelines["en"]
    spy = Recording(type(nlp.tokenizer)(nlp.vocab).from_bytes(nlp.tokenizer.to_bytes()))
    cache = ChunkCache(spy, max_chunks=5)
    assert spy.max_cache_size >= 10_000  # never lowers spaCy's own cap
    cache.warm("one two three four five six")
    cache.warm("seven eight")
    assert spy.texts == ["one two three four five six"]
