"""The spaCy pipeline: built from the rules, saved with its rules hash, rebuilt when stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.engine.analyzer import Engine
from app.engine.nlp import load_or_build
from app.engine.rulebook import load_rules
from app.extract.document import extract_text
from app.settings import Settings


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(Settings().rules_dir, target)
    return target


def test_saved_pipeline_records_the_rules_and_loads(rules_copy: Path, tmp_path: Path) -> None:
    ruleset = load_rules(rules_copy)
    models = tmp_path / "models" / "pipeline"  # parents are made as needed
    built = load_or_build(ruleset, models)
    for language in ("en", "es"):
        meta = json.loads((models / language / "meta.json").read_text())["redflags"]
        assert (meta["rules_version"], meta["language"]) == (ruleset.version, language)
    loaded = load_or_build(ruleset, models, save=False)
    texts = ["Our clinic cures arthritis. No side effects!", "Curamos la artritis sin riesgos."]
    languages = ["en", "es"]
    assert built.process(texts, languages) == loaded.process(texts, languages)
    assert all(art.candidates for art in loaded.process(texts, languages))


def test_stale_pipeline_is_rebuilt(rules_copy: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    load_or_build(load_rules(rules_copy), models)
    pack = rules_copy / "claims.yaml"
    pack.write_text(
        pack.read_text().replace("lemmas: [cure,", "lemmas: [miracle cure, cure,"), "utf-8"
    )
    changed = load_rules(rules_copy)
    engine = load_or_build(changed, models)
    assert engine.meta["rules_version"] == changed.version
    for language in ("en", "es"):
        saved = json.loads((models / language / "meta.json").read_text())["redflags"]
        assert saved["rules_version"] == changed.version


def test_lemmas_ignore_letter_case(engine: Engine) -> None:
    # spaCy's lookup lemmatizer would leave CURED and Cured unchanged and miss the rule.
    assert "cure-promise" in engine.rule_hits("OUR PATIENTS ARE CURED.")
    assert "cure-promise" in engine.rule_hits("Patients Cured In Weeks")


def test_each_language_is_read_by_its_own_pipeline(engine: Engine) -> None:
    # Spanish lemmas come from the Spanish table: "curamos" is a form of "curar".
    spanish = "Curamos la artritis reumatoide."
    assert "cure-promise" in engine.rule_hits(spanish, language="es")
    assert "cure-promise" not in engine.rule_hits("Tratamos la artritis.", language="es")
    # A language without a pipeline of its own is read by the English one.
    assert engine.nlp.pipeline_for("de") == "en"
    assert engine.nlp.pipeline_for("es") == "es"


def test_spanish_negation_sets_a_claim_aside(engine: Engine) -> None:
    assert "cure-promise" in engine.rule_hits("La terapia cura el lupus.", language="es")
    assert "cure-promise" not in engine.rule_hits("La terapia no cura el lupus.", language="es")


def test_sentences_never_cross_blocks(engine: Engine) -> None:
    text = "Single knee treatment\n\n$4,500"
    art = engine.nlp.process([text])[0]
    assert [
        text[s.start : s.end].strip() for s in art.sentences if text[s.start : s.end].strip()
    ] == [
        "Single knee treatment",
        "$4,500",
    ]


def test_anchored_matching_finds_exactly_what_a_plain_matcher_finds(
    engine: Engine, corpus: Path
) -> None:
    # The anchored windows, and the check that a window holds every word its pattern needs,
    # are optimisations: on real pages they must change nothing.
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

    from app.extract.files import load_site

    nlp = engine.nlp.pipelines["en"]
    terms = nlp.get_pipe("rule_terms")
    plain = Matcher(nlp.vocab)
    lemmas = PhraseMatcher(nlp.vocab, attr="LEMMA")
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    for pattern in terms.patterns:
        if pattern["kind"] == "tokens":
            plain.add(pattern["key"], [pattern["tokens"]])
        elif pattern["kind"] == "lemma":
            lemmas.add(
                pattern["key"], [Doc(nlp.vocab, words=pattern["words"], lemmas=pattern["lemmas"])]
            )
        else:
            lower.add(pattern["key"], [Doc(nlp.vocab, words=pattern["words"])])
    strings = nlp.vocab.strings
    pages = [
        p
        for site in sorted(corpus.iterdir())
        if site.is_dir()
        for p in load_site(str(site), max_bytes=5_000_000)
    ]
    compared = 0
    for doc in nlp.pipe(p.text for p in pages):
        found = {(s.label_, s.start, s.end) for s in doc.spans["candidates"]}
        expected = {
            (strings[m], s, e) for matcher in (plain, lemmas, lower) for m, s, e in matcher(doc)
        }
        assert found == expected
        compared += len(found)
    assert compared > 1000


def test_a_token_pattern_is_not_anchored_on_sentence_punctuation(engine: Engine) -> None:
    # A window is tried wherever the anchor is found: at a testimonial's closing "," or "."
    # that was 5,525 windows on the dev pages, at its opening quote 293.
    from app.engine.term_matcher import _anchor

    terms = engine.nlp.pipelines["en"].get_pipe("rule_terms")
    quoted = [
        {"ORTH": {"IN": ["”", '"', "»"]}},
        {"IS_SPACE": True, "OP": "{0,2}"},
        {"ORTH": {"IN": ["—", "-"]}},
        {"IS_SPACE": True, "OP": "{0,2}"},
        {"IS_TITLE": True},
        {"ORTH": {"IN": [",", "."]}},
    ]
    assert _anchor(quoted, terms.common) == ("f", 0, "ORTH", ["”", '"', "»"])
    assert _anchor([{"LOWER": "the"}, {"LOWER": "clinic"}], terms.common) == (
        "f",
        1,
        "LOWER",
        ["clinic"],
    )


def test_a_lazy_engine_loads_spanish_when_a_page_needs_it(engine: Engine) -> None:
    lazy = Engine.from_settings(Settings(), lazy=True)
    assert set(lazy.nlp.pipelines) == {"en"}
    english = "Our stem cell injections cure arthritis. Book your consultation today."
    assert lazy.analyze([extract_text(english, "en")], "en") == engine.analyze(
        [extract_text(english, "en")], "en"
    )
    assert set(lazy.nlp.pipelines) == {"en"}
    spanish = "Nuestras células madre curan la artritis. Reserve su consulta hoy mismo."
    assert lazy.analyze([extract_text(spanish, "es")], "es") == engine.analyze(
        [extract_text(spanish, "es")], "es"
    )
    assert set(lazy.nlp.pipelines) == {"en", "es"}
    assert lazy.nlp.pipelines["es"].max_length == engine.nlp.pipelines["es"].max_length
