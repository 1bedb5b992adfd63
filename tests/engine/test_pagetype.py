"""The page-type stage on its own: the saved artefact, its meta and the arithmetic of a reading."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.analyzer import Engine
from app.engine.pagetype import (
    ADDRESS_PREFIX,
    FEATURES_FILE,
    GRAM,
    META_FILE,
    MODEL_FILE,
    ModelMissingError,
    PageTypeModel,
    _largest,
    address_terms,
    cue_label,
    grams,
    locate,
    read_model,
    terms,
    tokens,
    write_model,
)
from app.settings import Settings
from app.training.corpus import sha1

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "corpus" / "real" / "labels.jsonl"


@pytest.fixture(scope="module")
def model(settings: Settings) -> PageTypeModel:
    return PageTypeModel.load(settings.pagetype_dir)


def test_the_committed_model_was_trained_on_the_committed_labels(model: PageTypeModel) -> None:
    assert model.meta["labels_sha1"] == sha1(LABELS.read_text(encoding="utf-8")), (
        "corpus/real/labels.jsonl changed since the model was trained: run `make train`"
    )


def test_meta_records_data_counts_libraries_and_cross_validated_figures(
    model: PageTypeModel,
) -> None:
    meta = model.meta
    assert meta["pages"] == sum(meta["label_counts"]["source"].values())
    assert meta["label_counts"]["source"]["real"] >= 600
    assert {"python", "scikit-learn", "numpy"} <= set(meta["libraries"])
    cv = meta["cross_validation"]
    assert cv["folds"] == 5 and cv["grouped_by"] == "host"
    assert 0.5 < cv["model_auroc_high_vs_low_real"] <= 1.0
    thresholds = meta["calibration"]["thresholds"]
    assert 0 < thresholds["caution"] < thresholds["high_risk"] <= 100
    assert meta["model"]["terms"] == len(model.words)
    assert meta["model"]["letter_sequences"] == len(model.letters) > 0
    assert meta["model"]["address_terms"] == len(model.address) > 0
    tried = meta["calibration"]["offers_tried_high_caught"]
    assert str(meta["calibration"]["offers"]) in tried  # the kept one catches the most
    assert tried[str(meta["calibration"]["offers"])] == max(tried.values())


def test_a_missing_model_is_a_clear_error_naming_the_command(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ModelMissingError, match="make train"):
        PageTypeModel.load(tmp_path)
    with pytest.raises(ModelMissingError, match="make train"):
        Engine.load(settings.rules_dir, settings.models_dir, tmp_path)


def test_a_model_of_another_format_is_refused(settings: Settings, tmp_path: Path) -> None:
    shutil.copy(settings.pagetype_dir / META_FILE, tmp_path / META_FILE)
    data = json.loads((settings.pagetype_dir / MODEL_FILE).read_text(encoding="utf-8"))
    data["format"] = 999
    (tmp_path / MODEL_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelMissingError, match="format 999"):
        PageTypeModel.load(tmp_path)


def test_a_saved_model_reads_back_the_same_and_a_torn_one_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    fitted = {
        "format": 4,
        "max_chars": 6000,
        "idf": {"clinic": 1.5, "stem cell": 2.25},
        "gram_idf": {"clin": 1.75},
        "address_idf": {"@clinic": 3.0},
        "heads": {
            "topic": {"intercept": -0.5, "weights": {"stem cell": 2.0, "~clin": 0.125}},
            "offers": {"intercept": 0.25, "weights": {"clinic": 1.0, "@clinic": -0.75}},
        },
    }
    write_model(tmp_path, fitted)
    assert read_model(tmp_path) == fitted
    shutil.copy(settings.pagetype_dir / META_FILE, tmp_path / META_FILE)
    reading = PageTypeModel.load(tmp_path).predict("Our clinic", "https://clinic.example/")
    assert {c.term for c in reading.offer_cues} == {"clinic", "@clinic"}
    # A features file that lost a line no longer lines up with its weights: refused, not misread.
    features = (tmp_path / FEATURES_FILE).read_text(encoding="utf-8").split("\n")
    (tmp_path / FEATURES_FILE).write_text("\n".join(features[1:]), encoding="utf-8")
    with pytest.raises(ModelMissingError, match="do not agree"):
        PageTypeModel.load(tmp_path)


def test_a_reading_decomposes_exactly_into_its_cues(model: PageTypeModel) -> None:
    text = "Book your stem cell treatment package today. Our clinic treats knees and backs."
    url = "https://www.example-regenerative-clinic.com/stem-cell-therapy/knee"
    result = model.predict(text, url, cues=10_000)
    assert math.isclose(sum(result.probabilities.values()), 1.0)
    logit = model.offers_intercept + sum(c.contribution for c in result.offer_cues)
    assert math.isclose(1 / (1 + math.exp(-logit)), result.p_offers, rel_tol=1e-9)
    assert any(c.term.startswith(ADDRESS_PREFIX) for c in result.offer_cues)
    # Three blocks (words, letters, the address's words), each of unit length, side by side
    # over sqrt(3); without an address its block is empty and the text's weigh the same.
    with_address = model.features(text, url)
    assert math.isclose(sum(v * v for v in with_address.values()), 1.0)
    without = model.features(text)
    assert math.isclose(sum(v * v for v in without.values()), 2 / 3)
    assert without == {t: v for t, v in with_address.items() if not t.startswith(ADDRESS_PREFIX)}


def test_an_address_gives_its_words_and_the_letters_of_its_run_together_words() -> None:
    found = address_terms("https://www.stemcellclinic.example/es/C%C3%A9lulas-madre/2024/knee")
    assert found[:3] == ["@stemcellclinic", "@~ ste", "@~stem"]
    assert {"@example", "@es", "@celulas", "@madre", "@knee", "@~cell"} <= set(found)
    assert not any(t.endswith("2024") for t in found)  # numbers in addresses are ids
    assert "@es" in found and "@~ es " not in found  # short words are not split into letters
    assert address_terms("/home/me/page.html") == address_terms(None) == []
    assert address_terms("http://127.0.0.1:8000/s1/about.html") == ["@about"]
    assert cue_label("@clinic") == "clinic (address)"
    assert cue_label("@~cell") == "…cell… (address)"


def test_the_address_moves_the_reading(model: PageTypeModel) -> None:
    """The same words read differently at a clinic's address and at a newspaper's: on the real
    corpus the address's words took the model from 0.93 to 0.95 AUROC out of fold."""
    text = (
        "Stem cell therapy for knee arthritis. Mesenchymal cells are injected into the joint "
        "and the procedure takes about two hours."
    )
    clinic = model.predict(text, "https://www.regenerative-stemcell-clinic.example/knee-therapy")
    news = model.predict(text, "https://www.example-daily-news.example/health/2024/story")
    assert clinic.p_offers > news.p_offers


def test_words_are_folded_and_paired() -> None:
    assert tokens("Células MADRE por $9,800") == ["celulas", "madre", "por", "$", "#", "#"]
    assert "celulas madre" in terms("Células madre")


def test_a_cue_is_traced_back_to_the_words_as_written() -> None:
    text = "Intro. Las Células Madre regeneran. End."
    found = locate(text, 7, 35, "celulas madre")
    assert found is not None and text[found[0] : found[1]] == "Células Madre"
    assert locate(text, 7, 35, "not there") is None
    found = locate(text, 7, 35, "~lula")  # letters: the word that holds them
    assert found is not None and text[found[0] : found[1]] == "Células"
    assert locate(text, 0, 6, "~lula") is None


@pytest.mark.parametrize(
    "text",
    [
        "Células  MADRE para la rodilla,\n\tcon precio: $9,800! ok a bc",
        "Stem-cell therapy (UC-MSC) — 2 sessions; e-mail us.",
        "",
    ],
)
def test_letter_features_are_scikit_learns_char_wb_four_grams(text: str) -> None:
    from collections import Counter

    from sklearn.feature_extraction.text import TfidfVectorizer

    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4)).build_analyzer()
    assert Counter(grams(text)) == Counter(analyse(text))


def test_long_runs_of_letters_are_read_but_never_cached() -> None:
    """The per-word caches hold short words only: a page of distinct 5,000-letter "words"
    would otherwise keep gigabytes alive in a long-running service."""
    from app.engine import pagetype

    before = (len(pagetype._word_grams), len(pagetype._folded))
    hostile = " ".join(letter * 5_000 for letter in "abcdefgh")
    assert len(grams(hostile)) == 8 * (5_002 - GRAM + 1)
    assert tokens(hostile) == [letter * 5_000 for letter in "abcdefgh"]
    after = (len(pagetype._word_grams), len(pagetype._folded))
    assert after == before


def test_letter_cues_read_as_parts_of_words() -> None:
    assert cue_label("~ cel") == "cel…"
    assert cue_label("~ulas") == "…ulas…"
    assert cue_label("~das ") == "…das"
    assert cue_label("stem cell") == "stem cell"


def test_a_selling_page_and_a_warning_page_are_told_apart(model: PageTypeModel) -> None:
    seller = (
        "Stem cell therapy packages for knee pain and arthritis. Our clinic offers umbilical "
        "cord stem cell injections. Schedule your free consultation today; financing available."
    )
    warning = (
        "Regulators warned consumers that clinics selling unapproved stem cell injections have "
        "caused infections. Researchers said controlled trials are still under way, and "
        "patients should ask whether a study is registered."
    )
    assert model.predict(seller).p_offers > 0.5 > model.predict(warning).p_offers


def test_the_word_caches_stay_bounded(monkeypatch) -> None:
    from app.engine import pagetype

    monkeypatch.setattr(pagetype, "CACHED_WORDS", 10)
    words = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(25)]
    assert tokens(" ".join(words)) == words
    assert len(grams(" ".join(words))) == 25 * (len(words[0]) + 2 - GRAM + 1)
    assert 0 < len(pagetype._folded) <= 10 and 0 < len(pagetype._word_grams) <= 10
    assert tokens(" ".join(words)) == words  # the same answers from a cache emptied meanwhile


@given(
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0]), max_size=40),
    st.integers(min_value=1, max_value=10),
)
def test_the_strongest_cues_are_found_as_a_stable_sort_would(values: list[float], n: int) -> None:
    # Of equal contributions the first on the page wins (ties are common: a few distinct values).
    array = np.array(values)
    expected = sorted(np.argsort(-array, kind="stable")[:n].tolist())
    assert _largest(array, n) == expected
