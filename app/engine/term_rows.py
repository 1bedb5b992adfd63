"""``TermRows``: the page-type model's terms, and the rows of a page's terms looked up at once.

A page's few thousand distinct terms used to be looked up one at a time in a dict of a block's
terms (53,000 words and word pairs, 28,000 letter sequences). The dicts are larger than the
processor's caches, so each look-up waited for its misses, one look-up after another: 2 ms of the
3,000-word page inside the engine (py-spy), against 0.5 ms when the same look-ups ran alone with
the dicts still cached. Here the look-ups are numpy gathers, whose misses the processor overlaps.
In one process, the two ways alternating (medians of eight rounds): the 143 dev pages took
1,173-1,184 -> 1,023-1,071 ms to analyse, the 3,000-word page 27.7-28.1 -> 25.7-26.2 ms, for
about 1% more instructions; the model loads in the same 26 ms (building the tables takes as long
as building the dicts did). Warm, a dict is faster (32 against 110 us for a page's 825 words):
the gain is the misses.

The table is a hash table in two arrays. A term's first slot is the low bits of its Python
string hash (which the ``Counter`` that counted the page's terms has already computed and cached
in each string); the terms are laid out by linear probing, in the order of their first slots,
so each sits at the first free slot from its own and a look-up walks at most ``probes`` slots
past it, a step for all names at once (all of a walk's slots in one gather took longer: the dev
pages 1,009 -> 1,043 ms; the three arrays of weights as one table of rows gained nothing).
Python's string hashes differ from one process to the next, so the table is built when the model
loads (and again when unpickled), never saved.

A match is a match of 64-bit hashes. When two of a block's terms share one (the table checks as
it is built; about one start in 10^10), every match is confirmed by comparing the strings. A
page's word that is no term could share a term's hash: with Python's keyed string hash, about
one page in 10^11 (a few thousand words against 53,000 terms, over 2^64), and that page would be
read as if it held the term. Comparing the strings on every match rules that out too, and cost
0.9 ms of the 3,000-word page: the terms' strings are the very misses this table avoids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class TermRows:
    """``terms[row]`` is a block's term; ``find(names)`` is each name's row, or -1."""

    terms: list[str]
    mask: int  # a hash's low bits: its first slot
    probes: int  # the farthest any term sits past its first slot
    hashes: np.ndarray  # by slot, the hash of the term there
    rows: np.ndarray  # by slot, the row of the term there; -1: an empty slot
    confirm: bool  # two terms share a hash: a match is confirmed by the strings

    @classmethod
    def of(cls, terms: list[str]) -> TermRows:
        count = len(terms)
        hashes = np.fromiter(map(hash, terms), dtype=np.int64, count=count)
        mask = (1 << (2 * count).bit_length()) - 1  # at most half the first slots taken
        firsts = hashes & mask
        order = np.argsort(firsts)
        first = firsts[order]
        # Taken in the order of their first slots, each term goes to its first slot or, when
        # the term before it took that one or a later one, to the slot after that term's.
        ranks = np.arange(count)
        slots = np.maximum.accumulate(first - ranks) + ranks if count else first
        probes = int((slots - first).max()) if count else 0
        table_hashes = np.zeros(mask + probes + 1, dtype=np.int64)
        table_rows = np.full(mask + probes + 1, -1, dtype=np.intp)
        table_hashes[slots] = hashes[order]
        table_rows[slots] = order
        shared = bool((np.diff(np.sort(hashes)) == 0).any())  # np.unique: 25 times as long
        return cls(list(terms), mask, probes, table_hashes, table_rows, shared)

    def __len__(self) -> int:
        return len(self.terms)

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process hashes strings with another key: it builds its own table.
        return (TermRows.of, (self.terms,))

    def find(self, names: Sequence[str]) -> np.ndarray:
        """The row of each name, -1 for a name that is not one of the terms."""
        hashes = np.fromiter(map(hash, names), dtype=np.int64, count=len(names))
        found = np.full(len(names), -1, dtype=np.intp)
        left = np.arange(len(names))  # names still looked for
        slots = hashes & self.mask
        for _ in range(self.probes + 1):
            rows = self.rows[slots]
            taken = rows >= 0
            hit = taken & (self.hashes[slots] == hashes[left])
            found[left[hit]] = rows[hit]
            going = taken & ~hit  # an empty slot ends a name's walk: it is not a term
            left, slots = left[going], slots[going] + 1
            if not len(left):
                break
        if self.confirm:
            self._confirm(names, found)
        return found

    def _confirm(self, names: Sequence[str], found: np.ndarray) -> None:
        """Set right, in place, any name whose hash matched another term's."""
        present = (found >= 0).tolist()
        named = list(compress(names, present))
        if named == list(map(self.terms.__getitem__, found[found >= 0].tolist())):
            return
        for i in np.flatnonzero(found >= 0).tolist():
            if self.terms[found[i]] != names[i]:
                found[i] = self._search(names[i])

    def _search(self, name: str) -> int:
        try:
            return self.terms.index(name)
        except ValueError:
            return -1
