"""Extract stage: read an HTML or plain-text document into blocks of visible text.

Later stages split blocks into sentences and quote them as evidence, so the text is kept as a
reader sees it (curly quotes and all) with only whitespace collapsed. The HTML tree is walked
once (``walker``), which keeps extraction inside the engine's time budget.
"""

from __future__ import annotations

import re
from dataclasses import replace

from app.extract.charset import (
    Entry,
    ExtractionError,
    charset_from_content_type,
    decode_document,
    plain_text_blocks,
    read_document,
)
from app.extract.page import Block, BlockKind, ExtractedPage
from app.extract.walker import Walker, is_registry, parse

__all__ = ["ExtractionError", "decode_document", "extract_document", "extract_html", "extract_text"]

_MARKUP_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|p|div|h[1-6]|"
    r"table|ul|ol|meta|title|section|article|main|header|nav|span|a|br|script|style|link)[\s>/]",
    re.I | re.S,
)


def _text_warnings(raw: str, entries: list[Entry], min_words: int, markup: bool) -> list[str]:
    if not raw.strip():
        return ["page has no text"]
    if not entries:
        return ["page has no visible text" if markup else "page has no text"]
    if sum(len(text.split()) for text, _, _ in entries) < min_words:
        return ["page has almost no text"]
    return []


def _assemble(source: str, entries: list[Entry], warnings: list[str]) -> ExtractedPage:
    blocks, start = [], 0
    for text, kind, region in entries:
        blocks.append(Block(text, kind, region, start, start + len(text)))
        start += len(text) + 2  # the "\n\n" between blocks
    return ExtractedPage(
        source=source,
        text="\n\n".join(text for text, _, _ in entries),
        blocks=tuple(blocks),
        warnings=tuple(warnings),
    )


def _from_markup(
    text: str, source: str, base_url: str | None, warnings: list[str], min_words: int
) -> ExtractedPage:
    walker = Walker(base_url)
    if text.strip():
        walker.run(parse(text))
    title = walker.title or walker.meta.get("og:title")
    description = walker.meta.get("description") or walker.meta.get("og:description")
    head: list[tuple[str | None, BlockKind]] = [(title, "title"), (description, "meta")]
    entries: list[Entry] = [(t, k, "header") for t, k in head if t] + walker.entries
    warnings += _text_warnings(text, walker.entries, min_words, markup=True)
    hrefs = dict.fromkeys(link.href for link in walker.links if is_registry(link.href))
    return replace(
        _assemble(source, entries, warnings),
        title=title,
        description=description,
        lang=walker.lang,
        links=tuple(walker.links),
        registry_links=tuple(hrefs),
        structured_prices=tuple(dict.fromkeys(walker.prices)),
    )


def _from_plain(text: str, source: str, warnings: list[str], min_words: int) -> ExtractedPage:
    entries = plain_text_blocks(text)
    warnings += _text_warnings(text, entries, min_words, markup=False)
    return _assemble(source, entries, warnings)


def extract_html(
    html: str | bytes,
    source: str,
    *,
    base_url: str | None = None,
    declared_charset: str | None = None,
    max_bytes: int = 5_000_000,
    min_words: int = 40,
) -> ExtractedPage:
    """Extract an HTML page; bytes are decoded with ``declared_charset`` or the page's own."""
    text, warnings = read_document(html, declared_charset, max_bytes)
    return _from_markup(text, source, base_url, warnings, min_words)


def extract_text(
    text: str | bytes, source: str, *, max_bytes: int = 5_000_000, min_words: int = 40
) -> ExtractedPage:
    """Extract a plain-text document: paragraphs, headings and list items become blocks."""
    decoded, warnings = read_document(text, None, max_bytes)
    return _from_plain(decoded, source, warnings, min_words)


def extract_document(
    data: bytes,
    source: str,
    *,
    content_type: str | None = None,
    base_url: str | None = None,
    max_bytes: int = 5_000_000,
    min_words: int = 40,
) -> ExtractedPage:
    """Extract a fetched or uploaded document, reading it as HTML when it is HTML."""
    text, warnings = read_document(data, charset_from_content_type(content_type), max_bytes)
    start = text[:2048].lstrip("\ufeff \t\r\n")
    if "html" in (content_type or "").lower() or _MARKUP_START.match(start):
        return _from_markup(text, source, base_url, warnings, min_words)
    return _from_plain(text, source, warnings, min_words)
