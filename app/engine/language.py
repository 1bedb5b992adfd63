"""Which language a page is written in: py3langid (a maintained fork of langid.py that ships its
model inside the package, so nothing is downloaded), limited to the languages clinics that sell
to our readers write in, which keeps short pages from being read as a neighbouring language."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "es", "de", "pt", "fr", "it")
SAMPLE_CHARS = 4_000  # the language of a page shows in its first few paragraphs


class LanguageDetector:
    """Detects a page's language among the ones the project knows, offline (py3langid)."""

    def __init__(self, languages: Sequence[str] = LANGUAGES) -> None:
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._identifier.set_languages(list(languages))

    def detect(self, text: str, default: str = "en") -> str:
        sample = text[:SAMPLE_CHARS]
        if not any(c.isalpha() for c in sample):
            return default
        language, _ = self._identifier.classify(sample)
        return str(language)


@cache
def language_detector() -> LanguageDetector:
    """One detector per process: its model takes about a second to load and is read-only
    (training builds an engine per cross-validation fold)."""
    return LanguageDetector()
