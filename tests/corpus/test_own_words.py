"""Rule examples are written in our own words: none repeats a run of four words from a page of
the dev corpus or, where this machine has it, of the real-page cache.

A run counts as copied unless three of its four words are grammar or the subject's own terms:
stop words, or words the rule packs themselves look for ("there is no cure", "approved by the
FDA", "tratamiento con células madre"), which any two writers on the subject share without
copying.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
from spacy.lang.es.stop_words import STOP_WORDS as ES_STOP

from app.engine.rulebook import load_rules
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "corpus" / "real" / "cache"
RUN = 4
WORD = re.compile(r"\w+(?:['’]\w+)?")
TAG = re.compile(r"<[^>]+>")
RULES = load_rules(Settings().rules_dir)


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


def _terms() -> frozenset[str]:
    """Every word that a rule or context trigger looks for, in any language."""
    found: set[str] = set()
    modifiers = [m.phrases for m in RULES.context.modifiers.values()]
    modifiers += [p for lang in RULES.context.languages.values() for p in lang.modifiers.values()]
    for phrases in modifiers:
        found.update(w for phrase in phrases for w in words(phrase))
    for rule in RULES.rules:
        specs = [rule.match, *(v.match for v in rule.languages.values())]
        for spec in filter(None, specs):
            phrases = spec.phrases + spec.lemmas
            if spec.group_count:
                phrases += [p for group in spec.group_count.groups.values() for p in group]
            found.update(w for phrase in phrases for w in words(phrase))
            for pattern in spec.patterns:
                found.update(w for token in pattern for w in words(str(token)))
    return frozenset(found)


COMMON = frozenset(EN_STOP | ES_STOP) | _terms()


def runs(text: str) -> set[tuple[str, ...]]:
    found = words(text)
    return {
        run
        for run in (tuple(found[i : i + RUN]) for i in range(len(found) - RUN + 1))
        if sum(w in COMMON for w in run) < RUN - 1
    }


def examples() -> Iterator[tuple[str, str]]:
    for rule in RULES.rules:
        for ex in [rule.examples, *(v.examples for v in rule.languages.values())]:
            for text in ex.match + ex.match_when_selling + ex.no_match:
                yield rule.id, text


@cache
def dev_runs(corpus: Path) -> frozenset[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for path in corpus.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".htm", ".txt", ""):
            found |= runs(TAG.sub(" ", path.read_text(encoding="utf-8", errors="ignore")))
    return frozenset(found)


def copied(source: frozenset[tuple[str, ...]]) -> list[str]:
    return [
        f"{rule_id}: {text!r} shares “{' '.join(sorted(runs(text) & source)[0])}”"
        for rule_id, text in examples()
        if runs(text) & source
    ]


def test_the_check_finds_a_copied_run() -> None:
    source = frozenset(runs("Our laboratory follows strict hygiene rules in every room."))
    assert runs("We say our laboratory follows strict rules.") & source
    assert not runs("There is no cure for it.") & frozenset(runs("there is no cure yet"))


def test_no_example_copies_the_dev_corpus(corpus: Path) -> None:
    found = copied(dev_runs(corpus))
    assert not found, "\n".join(found)


def test_no_example_copies_a_real_page() -> None:
    pages = sorted(CACHE.glob("*.txt"))
    if not pages:
        pytest.skip("the real-page cache is not on this machine (corpus/README.md rebuilds it)")
    source: set[tuple[str, ...]] = set()
    for page in pages:
        source |= runs(page.read_text(encoding="utf-8"))
    found = copied(frozenset(source))
    assert not found, "\n".join(found)
