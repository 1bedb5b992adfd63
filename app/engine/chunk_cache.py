"""Keeps spaCy's tokenizer cache filling past a text's first special case.

spaCy's tokenizer caches the tokens of every whitespace-separated chunk it splits, but once one
chunk of a text is a special case ("can't", "e.g.", "a.m."), nothing later in that text is cached:
the flag that guards the cache is set for the whole text, not for the chunk (spaCy 3.8,
``Tokenizer._tokenize_affixes``; explosion/spaCy#13950, fix proposed in #13951). Real pages
have a special case in their first lines, so the words of a page were split afresh on every
visit: 18 ms for the 3,000-word benchmark page against 0.7 ms from the cache.

The cause is in compiled spaCy code, so the work-around sits in front of it: before a text is
tokenized, its chunks not seen before are tokenized together with the special ones left out,
which stores them in spaCy's own cache; the text's tokenization then finds them there. The
tokens are exactly those the tokenizer makes (the cache only remembers its output); drop this
module once spaCy ships the fix.
"""

from __future__ import annotations

import re
import string
import threading
from typing import Any

# Chunks remembered per tokenizer. spaCy's own cap of 10,000 fills within a few hundred pages;
# an entry costs about 100 bytes on each side, so 200,000 stay near 40 MB.
MAX_CHUNKS = 200_000
_CHUNK = re.compile(r"\S+")
# spaCy strips these from a chunk's ends before it looks for a special case: "(e.g.," holds one.
_AFFIXES = string.punctuation + "“”‘’«»¿¡…"


class ChunkCache:
    """``warm(text)`` before ``tokenizer(text)``; safe to share between threads."""

    def __init__(self, tokenizer: Any, max_chunks: int = MAX_CHUNKS) -> None:
        self._tokenizer = tokenizer
        self._specials = frozenset(tokenizer.rules or {})
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.max_chunks = max_chunks
        tokenizer.max_cache_size = max(tokenizer.max_cache_size, max_chunks)

    def warm(self, text: str) -> None:
        if len(self._seen) >= self.max_chunks:
            return
        chunks = _CHUNK.findall(text)
        with self._lock:  # two threads warming one page would split its words twice
            if self._seen.issuperset(chunks):  # the usual case once a few pages are read
                return
            new = [c for c in dict.fromkeys(chunks) if c not in self._seen]
            self._seen.update(new)
            plain = [c for c in new if not self._holds_special(c)]
            if plain:
                self._tokenizer(" ".join(plain))

    def _holds_special(self, chunk: str) -> bool:
        """The chunk, or the chunk less some of the punctuation at either end, is a special
        case (spaCy strips affixes one at a time and looks after each)."""
        lead = len(chunk) - len(chunk.lstrip(_AFFIXES))
        trail = len(chunk) - len(chunk.rstrip(_AFFIXES))
        return any(
            chunk[i : len(chunk) - j] in self._specials
            for i in range(lead + 1)
            for j in range(trail + 1)
        )
