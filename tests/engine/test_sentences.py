"""Sentence starts: spaCy's Sentencizer rule, token for token, plus a start after blank lines."""

from __future__ import annotations

import pytest
import spacy
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from app.engine.factories import SentenceStarts

TEXTS = [
    "Stem cells repair joints. Call today!! Ask us? Yes...",
    "Precio: $5,000 (incluye viaje). ¿Listo? ¡Reserve hoy!",
    "Heading without a stop\n\nA paragraph after a blank line. And another.",
    "List item one\n\n\n  \nList item two\n \nthree",
    '"It cured me." she said. 2. Second point.',
    "...",
    "",
]


def _after_blank_line(doc: Doc, i: int) -> bool:
    """A word right after a run of whitespace that holds a newline."""
    j, newline = i - 1, False
    while j >= 0 and doc[j].is_space:
        newline, j = newline or "\n" in doc[j].text, j - 1
    return newline and not doc[i].is_space


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_sentencizer_rule_and_breaks_at_blank_lines(language: str) -> None:
    nlp = spacy.blank(language)
    ours, spacys = SentenceStarts(), Sentencizer()
    for text in TEXTS:
        doc = ours(nlp.make_doc(text))
        reference = spacys(nlp.make_doc(text))
        expected = [bool(r.is_sent_start) or _after_blank_line(doc, r.i) for r in reference]
        assert [bool(t.is_sent_start) for t in doc] == expected, text


def test_a_blank_line_starts_a_sentence_without_punctuation() -> None:
    doc = SentenceStarts()(spacy.blank("en").make_doc("Our clinic\n\nKnee injections from $900"))
    assert [s.text for s in doc.sents] == ["Our clinic\n\n", "Knee injections from $900"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("seed", range(4))
def test_the_rule_on_random_runs_of_words_punctuation_and_spaces(seed: int, language: str) -> None:
    import random

    pieces = ["Stem", "cells", "cure", "RA", "$900", ".", "!", "?", "...", ",", ";", "(", ")"]
    pieces += ['"', "’", "¿", "¡", "。", "e.g.", "2.", " ", "  ", "\n", "\n\n", " \n ", "\t"]
    rng = random.Random(seed)
    nlp, ours, spacys = spacy.blank(language), SentenceStarts(), Sentencizer()
    for _ in range(300):
        words = rng.randint(1, 40)
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(words))
        doc = ours(nlp.make_doc(text))
        reference = spacys(nlp.make_doc(text))
        expected = [bool(r.is_sent_start) or _after_blank_line(doc, r.i) for r in reference]
        assert [bool(t.is_sent_start) for t in doc] == expected, repr(text)
