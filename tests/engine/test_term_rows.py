"""The page-type model's term table: the rows a dict would give."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.engine.term_rows import TermRows

words = st.text(alphabet="abcdeé~ @#", min_size=1, max_size=6)


@given(terms=st.lists(words, unique=True, max_size=300), asked=st.lists(words, max_size=300))
def test_each_name_gets_the_row_a_dict_gives(terms: list[str], asked: list[str]) -> None:
    table = TermRows.of(terms)
    rows = {term: row for row, term in enumerate(terms)}
    names = asked + terms[::3]  # absent names, and present ones
    assert table.find(names).tolist() == [rows.get(name, -1) for name in names]
    assert len(table) == len(terms)


def test_terms_that_share_a_hash_are_told_apart_by_their_strings() -> None:
    # Two different strings with one 64-bit hash cannot be found to order; a table where "a"
    # sits under the hash of "b", in the slot "b" is looked for first, stands for one.
    shared = hash("b")
    mask, probes = 3, 1
    first = shared & mask
    hashes = np.zeros(mask + probes + 1, dtype=np.int64)
    rows = np.full(mask + probes + 1, -1, dtype=np.intp)
    hashes[first], rows[first] = shared, 0  # "a"
    hashes[first + 1], rows[first + 1] = shared, 1  # "b", one slot on
    table = TermRows(["a", "b"], mask, probes, hashes, rows, confirm=True)
    assert table.find(["b"]).tolist() == [1]
    # Once confirming, a name that is no term, under a term's hash, is not that term.
    lone = TermRows(
        ["a"], mask, 0, np.full(mask + 1, hash("zz"), np.int64), np.zeros(mask + 1, np.intp), True
    )
    assert lone.find(["zz"]).tolist() == [-1]


def test_an_unpickled_table_is_rebuilt_for_its_process_s_string_hashes() -> None:
    terms = [f"term {n}" for n in range(2_000)]
    dumped = pickle.dumps(TermRows.of(terms))
    probe = (
        "import pickle, sys\n"
        "table = pickle.loads(sys.stdin.buffer.read())\n"
        "print(table.find(['term 7', 'term 1999', 'none']).tolist())\n"
    )
    # Another hash seed gives every string another hash, as another process would.
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {"PYTHONHASHSEED": seed, "PYTHONPATH": "."}
    out = subprocess.run(
        [sys.executable, "-c", probe], input=dumped, capture_output=True, env=env, check=True
    )
    assert out.stdout.decode().strip() == "[7, 1999, -1]"


def test_a_table_whose_terms_share_a_hash_confirms_every_match() -> None:
    # No two strings with one hash are known, but CPython hashes the numbers -1 and -2 alike.
    table = TermRows.of([-1, -2])  # type: ignore[list-item]
    assert table.confirm
    assert table.find([-2, -1, 5]).tolist() == [1, 0, -1]  # type: ignore[list-item]
    assert not TermRows.of(["-1", "-2"]).confirm
