"""Language detection: the unpacked copy of py3langid's model answers as the package's own does,
and a folder that is missing, stale or read-only never stops the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.engine.language import LanguageDetector

PAGES = [
    "Our clinic offers stem cell therapy for knee pain. Book a free consultation today.",
    "Ofrecemos terapia con células madre para la artrosis de rodilla. Agende su cita.",
    "Wir bieten eine Stammzelltherapie bei Arthrose im Knie an.",
    "Oferecemos terapia com células-tronco para dores no joelho.",
    "Nous proposons une thérapie par cellules souches pour le genou.",
    "Offriamo la terapia con cellule staminali per il ginocchio.",
    "Células madre: tratamiento. Stem cells: treatment.",
    "12 345 — !!",
]


@pytest.fixture(scope="module")
def package() -> LanguageDetector:
    return LanguageDetector()


def test_the_unpacked_model_answers_as_the_packages_does(
    package: LanguageDetector, tmp_path: Path
) -> None:
    folder = tmp_path / "langid"
    built = LanguageDetector(folder=folder)  # the first start unpacks and saves
    assert (folder / "meta.json").is_file()
    reread = LanguageDetector(folder=folder)  # later starts read the saved arrays
    expected = [package.detect(page) for page in PAGES]
    assert expected[:6] == ["en", "es", "de", "pt", "fr", "it"]
    assert [built.detect(page) for page in PAGES] == expected
    assert [reread.detect(page) for page in PAGES] == expected


def test_a_stale_copy_is_rebuilt(package: LanguageDetector, tmp_path: Path) -> None:
    folder = tmp_path / "langid"
    LanguageDetector(folder=folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "py3langid": "0.0.1"}))
    (folder / "row.bin").write_bytes(b"")  # what a stale copy's arrays would not survive
    rebuilt = LanguageDetector(folder=folder)
    assert [rebuilt.detect(page) for page in PAGES] == [package.detect(page) for page in PAGES]
    assert json.loads((folder / "meta.json").read_text(encoding="utf-8")) == meta


def test_a_folder_that_cannot_be_written_still_detects(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    detector = LanguageDetector(folder=blocker / "langid")
    assert detector.detect(PAGES[1]) == "es"
