"""Regex scanning limited to the lines of a page that hold a digit, or to the places just
before a digit.

Every identifier (prices, registry numbers, IND numbers) is on a line with a digit, and most
lines of a page have none; trying long alternations at every character of those lines cost more
than spaCy's tokenizer on the dev corpus (measured by make bench). A price holds a digit a few
characters from its start at most, so its pattern is tried only there (``finditer_near_digits``).
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


def finditer_near_digits(
    pattern: re.Pattern[str], text: str, within: int
) -> Iterator[re.Match[str]]:
    """``finditer_digit_lines(pattern, text)`` for a pattern whose every match holds a digit at
    most ``within`` characters after its start: only those starting places are tried (a long
    line of a 3,000-word page holds its few digits in a couple of places)."""
    for start, end in digit_lines(text):
        pos = start  # where the next match may start: not inside the last one
        tried = start - 1  # the last starting place tried
        for digit in _DIGIT.finditer(text, start, end):
            first = digit.start()
            if first < pos:
                continue
            # Places not yet tried from which a match could reach this digit first.
            for place in range(max(pos, tried + 1, first - within), first + 1):
                if (match := pattern.match(text, place, end)) is not None:
                    yield match
                    pos = match.end()
                    break
            tried = first


@lru_cache(maxsize=8)
def digit_lines(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each line holding a digit; cached, as each identifier kind asks again."""
    return tuple(
        (line.start(), line.end())
        for line in _LINE.finditer(text)
        if _DIGIT.search(text, line.start(), line.end())
    )
