"""Regex scanning limited to the lines of a page that hold a digit.

Every identifier (prices, registry numbers, IND numbers) contains a digit, and most lines of a
page have none; trying long alternations at every character of those lines cost more than
spaCy's tokenizer on the dev corpus (measured by make bench).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

_LINE = re.compile(r"[^\n]+")
_DIGIT = re.compile(r"\d")


def finditer_digit_lines(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, restricted to lines that contain a digit."""
    for start, end in digit_lines(text):
        yield from pattern.finditer(text, start, end)


@lru_cache(maxsize=8)
def digit_lines(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each line holding a digit; cached, as each identifier kind asks again."""
    return tuple(
        (line.start(), line.end())
        for line in _LINE.finditer(text)
        if _DIGIT.search(text, line.start(), line.end())
    )
