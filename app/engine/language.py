"""Which language a page is written in: py3langid (a maintained fork of langid.py that ships its
model inside the package, so nothing is downloaded), limited to the languages clinics that sell
to our readers write in, which keeps short pages from being read as a neighbouring language.

py3langid's model is an LZMA archive that takes 0.4 s to unpack at every start, most of a
one-off command's time. The arrays that a detector limited to our languages needs are kept
unpacked beside the spaCy pipelines (built on first use from the package's own model, rebuilt
when py3langid or the language list changes, never downloaded), and read back in milliseconds.
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import py3langid
from py3langid.langid import MODEL_FILE, LanguageIdentifier

log = logging.getLogger(__name__)

LANGUAGES = ("en", "es", "de", "pt", "fr", "it")
SAMPLE_CHARS = 4_000  # the language of a page shows in its first few paragraphs
CACHE_FORMAT = 1
LANGUAGE_FOLDER = "langid"  # in the pipelines' folder
_META = "meta.json"
_NEXTMOVE, _ROW, _ARRAYS = "nextmove.bin", "row.bin", "model.npz"


class LanguageDetector:
    """Detects a page's language among the ones the project knows, offline (py3langid)."""

    def __init__(self, languages: Sequence[str] = LANGUAGES, folder: Path | None = None) -> None:
        """``folder``: where the unpacked model is kept (None: unpack the package's each time)."""
        self._identifier = _identifier(tuple(languages), folder)

    def detect(self, text: str, default: str = "en") -> str:
        sample = text[:SAMPLE_CHARS]
        if not any(c.isalpha() for c in sample):
            return default
        language, _ = self._identifier.classify(sample)
        return str(language)


@cache
def language_detector(folder: Path | None = None) -> LanguageDetector:
    """One detector per process and folder: its model is read-only (training builds an engine
    per cross-validation fold)."""
    return LanguageDetector(folder=folder)


def _identifier(languages: tuple[str, ...], folder: Path | None) -> LanguageIdentifier:
    stamp = {"format": CACHE_FORMAT, "py3langid": py3langid.__version__, "languages": languages}
    if folder is not None and _stamp(folder) == stamp:
        return _read(folder)
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    if folder is not None:
        try:
            _write(identifier, folder, stamp)
        except OSError as exc:  # a read-only install still runs, at the slower start
            log.warning("could not save the language model to %s: %s", folder, exc)
    return identifier


def _stamp(folder: Path) -> dict[str, object] | None:
    try:
        found = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {
        "format": found.get("format"),
        "py3langid": found.get("py3langid"),
        "languages": tuple(found.get("languages", ())),
    }


def _write(identifier: LanguageIdentifier, folder: Path, stamp: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _NEXTMOVE).write_bytes(identifier.tk_nextmove.tobytes())
    (folder / _ROW).write_bytes(identifier.tk_row.tobytes())
    np.savez(
        folder / _ARRAYS,
        ptc=identifier.nb_ptc,
        pc=identifier.nb_pc,
        classes=np.array(identifier.nb_classes),
        output=np.array(identifier.tk_output, dtype=np.int32),
    )
    # Written last: a folder without it (an interrupted write) is rebuilt.
    meta = {**stamp, "typecodes": [identifier.tk_nextmove.typecode, identifier.tk_row.typecode]}
    (folder / _META).write_text(json.dumps(meta), encoding="utf-8")


def _read(folder: Path) -> LanguageIdentifier:
    codes = json.loads((folder / _META).read_text(encoding="utf-8"))["typecodes"]
    nextmove, row = array(codes[0]), array(codes[1])
    nextmove.frombytes((folder / _NEXTMOVE).read_bytes())
    row.frombytes((folder / _ROW).read_bytes())
    with np.load(folder / _ARRAYS) as data:
        return LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            nextmove,
            data["output"].tolist(),
            norm_probs=True,
            tk_row=row,
        )
