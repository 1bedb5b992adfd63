"""Local files and folders as sites: what ``redflags analyze`` reads (no network, ever)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

from app.extract.charset import ExtractionError
from app.extract.document import extract_document
from app.extract.page import ExtractedPage

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".text", ".md")
ENTRY_NAMES = ("index.html", "index.htm", "index.xhtml", "index.txt")
MAX_PAGES_PER_FOLDER = 50


class InputError(Exception):
    """A path that cannot be analysed; the message says why in plain words."""


def load_site(path: str, *, max_bytes: int, min_words: int = 40) -> list[ExtractedPage]:
    """Read one file, ``-`` (stdin) or a folder (one site: its pages, entry page first)."""
    if path == "-":
        return [_extract(sys.stdin.buffer.read(max_bytes + 1), "-", None, max_bytes, min_words)]
    target = Path(path)
    if target.is_dir():
        files = sorted(
            (p for p in target.iterdir() if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES),
            key=lambda p: (p.name.lower() not in ENTRY_NAMES, p.name),
        )
        if not files:
            raise InputError(f"{path}: folder has no HTML or text pages")
        return [_read(p, max_bytes, min_words, source=str(p)) for p in files[:MAX_PAGES_PER_FOLDER]]
    if not target.exists():
        raise InputError(f"{path}: no such file or folder")
    return [_read(target, max_bytes, min_words, source=path)]


def at_address(pages: list[ExtractedPage], url: str) -> list[ExtractedPage]:
    """Saved pages given the web address they came from: the first (a folder's entry page) at
    ``url``, the others beside it, by file name."""
    return [
        replace(page, source=url if i == 0 else urljoin(url, Path(page.source).name))
        for i, page in enumerate(pages)
    ]


def _read(path: Path, max_bytes: int, min_words: int, *, source: str) -> ExtractedPage:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{source}: cannot read file ({exc.strerror or exc})") from None
    return _extract(data, source, path.suffix.lower(), max_bytes, min_words)


def _extract(
    data: bytes, source: str, suffix: str | None, max_bytes: int, min_words: int
) -> ExtractedPage:
    content_type = "text/plain" if suffix in (".txt", ".text", ".md") else None
    if suffix in (".html", ".htm", ".xhtml"):
        content_type = "text/html"
    try:
        return extract_document(
            data, source, content_type=content_type, max_bytes=max_bytes, min_words=min_words
        )
    except ExtractionError as exc:
        raise InputError(f"{source}: {exc}") from None
