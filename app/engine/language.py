"""Which language a page is written in: py3langid (a maintained fork of langid.py that ships its
model inside the package, so nothing is downloaded), limited to the languages clinics that sell
to our readers write in, which keeps short pages from being read as a neighbouring language.

py3langid's model is an LZMA archive that takes 0.4 s to unpack at every start, most of a
one-off command's time. The arrays that a detector limited to our languages needs are kept
unpacked beside the spaCy pipelines (built on first use from the package's own model, rebuilt
when py3langid or the language list changes, never downloaded), and read back in milliseconds.

py3langid finds a text's byte sequences by walking an automaton one byte at a time in Python
(1.5 ms for 4,000 bytes, a fifth of a small page's analysis). The automaton's state after a
byte depends only on the last few bytes (its deepest state's distance from the start), so
``_Identifier`` takes every position's state at once with numpy: that many vectorised steps
instead of a step per byte, the same counts in the same order, hence the same scores.
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import py3langid
from py3langid.langid import MODEL_FILE, LanguageIdentifier

log = logging.getLogger(__name__)

LANGUAGES = ("en", "es", "de", "pt", "fr", "it")
SAMPLE_CHARS = 4_000  # the language of a page shows in its first few paragraphs
CACHE_FORMAT = 2  # 2: the meta holds the automaton's depth
LANGUAGE_FOLDER = "langid"  # in the pipelines' folder
_META = "meta.json"
_NEXTMOVE, _ROW, _ARRAYS = "nextmove.bin", "row.bin", "model.npz"


class _Identifier(LanguageIdentifier):  # type: ignore[misc]  # py3langid has no types
    """py3langid's identifier with the byte walk done on every position at once."""

    __slots__ = ("depth", "_moves", "_bases", "_outputs")

    def __init__(self, *args: Any, depth: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.depth = depth
        self._moves, self._bases = _automaton(self)
        self._outputs = np.array(self.tk_output, dtype=np.int64)

    def _raw_score(self, text: bytes) -> Any:
        visits = self._visits(text)
        if visits is None:  # no features: the package's own answer for that
            return super()._raw_score(b"")
        # The package's ``_sparse_score`` on the arrays it would read out of its dict.
        features, counts = visits
        return np.log1p(counts.astype(np.float32)) @ self.nb_ptc[features] + self.nb_pc

    def _visits(self, text: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """Each feature met and its count, in the order the package's walk first meets them."""
        data = np.frombuffer(text, dtype=np.uint8).astype(np.int64)
        states = np.zeros(len(data), dtype=np.int64)
        # Position i reads bytes i - depth + 1 .. i from the start state (or from byte 0).
        for back in range(self.depth - 1, -1, -1):
            reached = states[back:]
            reached[:] = self._moves[self._bases[reached] + data[: len(data) - back]]
        features = self._outputs[states]
        at = np.flatnonzero(features >= 0)
        if not len(at):
            return None
        # Sorted by feature, then position, in one sort of both as one number: np.unique with
        # first positions (a stable argsort) and the package's dict took 0.31 ms of 4,000
        # bytes, this 0.09 ms.
        bits = len(data).bit_length()
        keys = np.sort(features[at] << bits | at)
        found, where = keys >> bits, keys & ((1 << bits) - 1)
        starts = np.flatnonzero(np.diff(found, prepend=-1))
        counts = np.diff(starts, append=len(keys))
        order = np.argsort(where[starts])  # by the position each feature is first met
        return found[starts][order], counts[order]


def _automaton(identifier: LanguageIdentifier) -> tuple[np.ndarray, np.ndarray]:
    """The automaton's moves and each state's offset into them (the package's ``_rowbase``),
    as numpy arrays over the package's own."""
    moves = np.frombuffer(identifier.tk_nextmove, dtype=f"u{identifier.tk_nextmove.itemsize}")
    rows = np.frombuffer(identifier.tk_row, dtype=f"u{identifier.tk_row.itemsize}")
    return moves, rows.astype(np.int64) << 8


def automaton_depth(identifier: LanguageIdentifier) -> int:
    """The most bytes the automaton needs to reach any of its states from the start: a
    breadth-first search over its moves (0.6 s, so the saved copy keeps the answer)."""
    moves, bases = _automaton(identifier)
    seen = np.zeros(len(bases), dtype=bool)
    seen[0] = True
    frontier, depth = np.array([0]), 0
    while True:
        reached = np.unique(moves[(bases[frontier][:, None] + np.arange(256)).ravel()])
        frontier = reached[~seen[reached]]
        if not len(frontier):
            return depth
        seen[frontier] = True
        depth += 1


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


def _identifier(languages: tuple[str, ...], folder: Path | None) -> _Identifier:
    stamp = {"format": CACHE_FORMAT, "py3langid": py3langid.__version__, "languages": languages}
    if folder is not None and _stamp(folder) == stamp:
        return _read(folder)
    package = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    package.set_languages(list(languages))
    identifier = _Identifier(
        package.nb_ptc,
        package.nb_pc,
        package.nb_classes,
        package.tk_nextmove,
        package.tk_output,
        norm_probs=True,
        tk_row=package.tk_row,
        depth=automaton_depth(package),
    )
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


def _write(identifier: _Identifier, folder: Path, stamp: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Beside, then renamed over the old one: a running process that has the old one mapped
    # keeps reading it (rewritten in place, its pages would change under it, or vanish).
    moves = folder / f"{_NEXTMOVE}.new"
    moves.write_bytes(identifier.tk_nextmove.tobytes())
    moves.replace(folder / _NEXTMOVE)
    (folder / _ROW).write_bytes(identifier.tk_row.tobytes())
    np.savez(
        folder / _ARRAYS,
        ptc=identifier.nb_ptc,
        pc=identifier.nb_pc,
        classes=np.array(identifier.nb_classes),
        output=np.array(identifier.tk_output, dtype=np.int32),
    )
    # Written last: a folder without it (an interrupted write) is rebuilt.
    meta = {
        **stamp,
        "typecodes": [identifier.tk_nextmove.typecode, identifier.tk_row.typecode],
        "depth": identifier.depth,
    }
    (folder / _META).write_text(json.dumps(meta), encoding="utf-8")


def _read(folder: Path) -> _Identifier:
    meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    codes = meta["typecodes"]
    # Mapped, not read (30 of the 50 ms a load took): a page's walk touches a few pages of the
    # automaton's 39 MB, and the processes of a batch or of the service share them.
    width = array(codes[0]).itemsize
    nextmove = np.memmap(folder / _NEXTMOVE, dtype=f"u{width}", mode="r")
    row = array(codes[1])
    row.frombytes((folder / _ROW).read_bytes())
    with np.load(folder / _ARRAYS) as data:
        return _Identifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            nextmove,
            data["output"].tolist(),
            norm_probs=True,
            tk_row=row,
            depth=int(meta["depth"]),
        )
