"""Undo Content-Encoding (gzip, deflate, br) without ever inflating more than asked for.

An HTTP client's own decoders inflate each network chunk whole, and one 64 KB chunk of a gzip
bomb expands to about 64 MB. These decoders take an output cap on every call, so the fetcher
can stop at its decompressed-bytes limit with only that much in memory.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class DecodeError(ValueError):
    """The body's compression is damaged or of a kind this fetcher does not read."""


class BodyDecoder(Protocol):
    def decode(self, data: bytes, max_out: int) -> bytes:
        """Feed compressed ``data``; return at most ``max_out`` (> 0) decoded bytes."""

    def flush(self, max_out: int) -> bytes:
        """Return what is still buffered once the input has ended, at most ``max_out``."""


class _Identity:
    def decode(self, data: bytes, max_out: int) -> bytes:
        return data[:max_out]

    def flush(self, max_out: int) -> bytes:
        return b""


class _Zlib:
    """gzip, or deflate in its zlib wrapper or (as some servers send it) raw."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False

    def decode(self, data: bytes, max_out: int) -> bytes:
        try:
            out = self._inflater.decompress(data, max_out)
        except zlib.error:
            if self._coding != "deflate" or self._started:
                raise DecodeError(f"the page's {self._coding} compression is damaged") from None
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, no wrapper
            self._started = True
            return self.decode(data, max_out)
        self._started = True
        return out

    def flush(self, max_out: int) -> bytes:
        try:
            return self._inflater.flush(max_out)
        except zlib.error:
            raise DecodeError(f"the page's {self._coding} compression is damaged") from None


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes, max_out: int) -> bytes:
        try:
            # output_buffer_limit (brotli >= 1.2) stops inflating once max_out bytes are out.
            return self._decompressor.process(data, output_buffer_limit=max_out)[:max_out]
        except brotli.error:
            raise DecodeError("the page's brotli compression is damaged") from None

    def flush(self, max_out: int) -> bytes:
        if self._decompressor.is_finished():
            return b""
        return self.decode(b"", max_out)


def make_decoder(content_encoding: str | None) -> BodyDecoder:
    """A decoder for a Content-Encoding header value (None or "identity": no decoding)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Zlib("deflate" if codings[0] == "deflate" else "gzip")
    if codings == ["br"]:
        return _Brotli()
    raise DecodeError(
        f"the server used a compression this checker cannot read ({content_encoding})"
    )
