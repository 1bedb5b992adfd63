"""Language detection: the unpacked copy of py3langid's model answers as the package's own does,
and a folder that is missing, stale or read-only never stops the engine."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from py3langid.langid import visit_counts

from app.engine.language import SAMPLE_CHARS, LanguageDetector

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


def test_a_rebuild_leaves_the_automaton_a_running_detector_reads(tmp_path: Path) -> None:
    # The automaton is mapped from its file: a rebuild (another process, a newer py3langid)
    # must put a new file in its place, not rewrite the pages a running detector reads.
    folder = tmp_path / "langid"
    LanguageDetector(folder=folder)
    moves = folder / "nextmove.bin"
    older = bytes(range(8)) + moves.read_bytes()[8:]
    moves.write_bytes(older)
    running = LanguageDetector(folder=folder)._identifier.tk_nextmove
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "py3langid": "0.0.1"}))
    LanguageDetector(folder=folder)  # stale: rebuilt
    assert moves.read_bytes()[:8] != older[:8]
    assert running.view(np.uint8)[:8].tobytes() == older[:8]


def test_a_folder_that_cannot_be_written_still_detects(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    detector = LanguageDetector(folder=blocker / "langid")
    assert detector.detect(PAGES[1]) == "es"


def _texts(corpus: Path) -> list[str]:
    """Every dev page's text, the pages above, and seeded random text in many scripts."""
    from app.extract.files import load_site

    pages = [
        p.text
        for site in sorted(corpus.iterdir())
        if site.is_dir()
        for p in load_site(str(site), max_bytes=5_000_000)
    ]
    rng = random.Random(13)
    alphabet = "abcdeéñüßçøœ ÉÀ.,;:!?¿¡'\"-—123 абв αβγ 中文字 العربية ह ✓🙂\n\t"
    noise = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 900))) for _ in range(200)]
    return [*pages, *PAGES, *noise, "", "a", "STEM CELLS"]


def test_the_walk_on_every_byte_at_once_counts_as_the_packages_walk(
    package: LanguageDetector, corpus: Path
) -> None:
    identifier = package._identifier
    assert identifier.depth >= 4  # byte sequences of one to four bytes, and more
    compared = 0
    for text in _texts(corpus):
        data = identifier._encode(text[:SAMPLE_CHARS])
        expected = visit_counts(
            identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, data
        )
        visits = identifier._visits(data)
        found = list(zip(*(a.tolist() for a in visits), strict=True)) if visits else None
        # The same features, counts and first-met order: the scores are summed in that order.
        assert found == (list(expected.items()) if expected else None)
        compared += len(data)
    assert compared > 400_000
