"""Bytes to clean text: decoding, the size limit, whitespace clean-up and plain-text blocks.

Decoding follows what browsers do closely enough for marketing pages: a byte-order mark is
definitive, then the charset the server declared, then a ``<meta>`` declaration near the top,
then UTF-8, then a statistical guess. Each fallback leaves a warning so a report can say that
its quotes might be slightly off.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

from app.extract.page import BlockKind, Region

Entry = tuple[str, BlockKind, Region]  # a block before offsets are assigned


class ExtractionError(Exception):
    """The document cannot be read as text; the message is meant for the person who sent it."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# File signatures of common non-text formats whose first bytes can look printable.
# fmt: off
_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b",
          b"\x7fELF", b"wOFF", b"wOF2")
# fmt: on
# C0 control bytes that never occur in real text (tab, newlines and form feed do).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32)])
_SNIFF_BYTES = 8192
_MAX_CONTROL_RATIO = 0.05
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.I)
# WHATWG: browsers read these labels as the superset encoding, so "€" (0x80) on a page that says
# ISO-8859-1 is a euro sign, not a C1 control character.
_BROWSER_SUPERSETS = {"iso8859_1": "cp1252", "ascii": "cp1252", "gb2312": "gbk"}
# Encodings browsers will not decode (the WHATWG Encoding standard has no UTF-7: it let pages
# smuggle markup past filters); a page that declares one is read as if it declared nothing.
_REFUSED = frozenset({"utf_7"})
# Encodings web pages actually use; without this list the detector picks DOS code pages.
# fmt: off
_WEB_ENCODINGS = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u", "cp874",
    "shift_jis", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr",
]
# fmt: on
_INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_WORD = re.compile(r"\w")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_LIST_ITEM = re.compile(r"\s*(?:[-*+•▪◦‣]|\d{1,3}[.)])\s+\S")
_MD_HEADING = re.compile(r"\s*#{1,6}\s+\S")
# A letter, a non-ASCII non-letter, a letter: how Central European text looks read as cp1252
# ("Za¿ó³æ"). The apostrophe is the one symbol that belongs inside Western words.
_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])[^\x00-\x7f\w’](?=[^\W\d_])")


def normalize_charset(label: str | None) -> str | None:
    """Map a declared charset label to a Python codec name, or None if Python does not know it
    or browsers refuse it."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_").lower()
    if name in _REFUSED:
        return None
    return _BROWSER_SUPERSETS.get(name, name)


def _after_bom(data: bytes, encoding: str) -> str:
    """The text after a byte-order mark, unless the bytes are not text in that encoding at all
    (random bytes behind a UTF-32 mark decode to little but replacement characters)."""
    text = data.decode(encoding, "replace")
    junk = text.count("\ufffd") + sum(1 for c in text if c < " " and c not in "\t\n\r\f")
    if text and junk > _MAX_CONTROL_RATIO * len(text):
        name = encoding.upper().replace("_", "-")
        raise ExtractionError(
            f"not readable text: the bytes after its {name} byte-order mark are not characters"
        )
    return text


def charset_from_content_type(content_type: str | None) -> str | None:
    """The raw ``charset=`` parameter of a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type or "", re.I)
    return match.group(1) if match else None


def _check_binary(data: bytes) -> None:
    sample = data[:_SNIFF_BYTES]
    if sample.startswith(_MAGIC) or b"\x00" in sample:
        raise ExtractionError("not a text or HTML file (binary content)")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_RATIO * len(sample):
        raise ExtractionError("not a text or HTML file (binary content)")


def _strict(data: bytes, encoding: str) -> str | None:
    # final=False: a multi-byte character cut in half at the size limit is dropped, not an error.
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """Decode UTF-8 with replacement when the text has real multi-byte characters besides errors."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - bad
    # Multi-byte sequences almost never form by chance in a legacy encoding.
    return (text, bad) if non_ascii and non_ascii * 2 >= bad else None


def _is_latin(text: str) -> bool:
    letters = [c for c in text if c > "\x7f" and c.isalpha()]
    latin = sum(unicodedata.name(c, "").startswith("LATIN") for c in letters)
    return latin * 2 >= len(letters)


def _guess_encoding(data: bytes) -> str:
    """Guess a legacy encoding, preferring windows-1252 as browsers in Western locales do.

    The detector cannot tell windows-1252 from windows-1250 on short Western pages (it reads
    "niños" as "nińos"), so windows-1252 wins whenever the guess is Latin script and reading
    the bytes as windows-1252 does not put symbols inside words.
    """
    best = from_bytes(data, cp_isolation=_WEB_ENCODINGS).best()
    if best is None:
        return "cp1252"
    if best.encoding != "cp1252" and _is_latin(str(best)):
        as_1252 = _strict(data, "cp1252")
        if as_1252 is not None and not _SYMBOL_IN_WORD.search(as_1252):
            return "cp1252"
    return best.encoding


def decode_document(data: bytes, declared_charset: str | None = None) -> tuple[str, list[str]]:
    """Decode a document's bytes; returns the text and warnings about how it was decoded.

    Raises ExtractionError when the bytes are not text at all (images, PDFs, archives).
    """
    if not data:
        return "", []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _after_bom(data[len(bom) :], encoding), []
    _check_binary(data)

    warnings: list[str] = []
    candidates: list[str] = []
    meta = _META_CHARSET.search(data[:4096])
    for label in (declared_charset, meta.group(1).decode("ascii") if meta else None):
        named = normalize_charset(label)
        if label and named is None:
            warnings.append(f"unknown character set {label!r} declared; ignored")
        elif named and named.startswith(("utf_16", "utf_32")):
            # Without a BOM a UTF-16 label on ASCII-looking bytes is wrong; browsers use UTF-8.
            candidates.append("utf_8")
        elif named and named not in candidates:
            candidates.append(named)
    if "utf_8" not in candidates:
        candidates.append("utf_8")

    for encoding in candidates:
        text = _strict(data, encoding)
        if text is not None:
            if encoding != candidates[0]:
                wrong, used = candidates[0].replace("_", "-"), encoding.replace("_", "-")
                warnings.append(f"page is not valid {wrong}; read it as {used}")
            return text, warnings

    mostly = _mostly_utf8(data)
    if mostly is not None:
        text, bad = mostly
        warnings.append(f"{bad} invalid UTF-8 byte sequence(s) were replaced")
        return text, warnings

    encoding = _guess_encoding(data)
    warnings.append(f"character set not declared or wrong; guessed {encoding.replace('_', '-')}")
    return data.decode(encoding, "replace"), warnings


def read_document(
    data: str | bytes, declared_charset: str | None, max_bytes: int
) -> tuple[str, list[str]]:
    """Cut a document at ``max_bytes`` and decode it; returns the text and warnings."""
    warnings: list[str] = []
    cut = f"page was larger than {max_bytes} bytes; only the first {max_bytes} were analysed"
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            data, warnings = data[:max_bytes], [cut]
        text, decode_warnings = decode_document(data, declared_charset)
        return text, decode_warnings + warnings
    # Only a string this long can exceed the limit once encoded (4 bytes per character at most).
    if len(data) > max_bytes // 4:
        raw = data.encode("utf-8", "surrogatepass")
        if len(raw) > max_bytes:
            data, warnings = raw[:max_bytes].decode("utf-8", "ignore"), [cut]
    return data.replace("\x00", ""), warnings


def clean_text(text: str) -> str:
    """Collapse whitespace and drop invisible characters (soft hyphens, zero-width spaces).

    Quotes, dashes and case stay as written: evidence is quoted from this text.
    """
    # translate() looks every character up in a dict: most of a page's text is ASCII, or
    # has no invisible character, and is only scanned, in C (the 3,000-word page: 0.74 -> 0.24 ms).
    if not text.isascii() and _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    text = " ".join(text.split())
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _is_heading(line: str, following: str | None) -> bool:
    # Short and unpunctuated, and not just the first line of a hard-wrapped paragraph.
    return (
        len(line.split()) <= 8
        and not line.endswith(tuple(".!?,;:"))
        and (following is None or len(line) < 0.6 * len(following.strip()))
    )


def plain_text_blocks(text: str) -> list[Entry]:
    """Blocks of a plain-text document: paragraphs, and lines that are headings or list items."""
    entries: list[Entry] = []

    def emit(lines: list[str], kind: BlockKind) -> None:
        if lines and _WORD.search(joined := clean_text(" ".join(lines))):
            entries.append((joined, kind, "main"))

    for paragraph in _PARAGRAPH_BREAK.split(text):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        run: list[str] = []
        kind: BlockKind = "paragraph"
        for i, line in enumerate(lines):
            if _LIST_ITEM.match(line):
                emit(run, kind)
                run, kind = [line], "list_item"
            elif kind == "list_item" and line[:1].isspace():
                run.append(line)  # an indented continuation of the item
            elif _MD_HEADING.match(line) or (
                kind == "paragraph"
                and not run
                and _is_heading(line.strip(), lines[i + 1] if i + 1 < len(lines) else None)
            ):
                emit(run, kind)
                emit([line], "heading")
                run, kind = [], "paragraph"
            else:
                if kind == "list_item":
                    emit(run, kind)
                    run, kind = [], "paragraph"
                run.append(line)
        emit(run, kind)
    return entries
