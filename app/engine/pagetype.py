"""The page-type model: how likely a page is to offer cell treatment, discuss it, or be unrelated.

A pair of logistic regressions over words, word pairs and four-letter sequences, trained on
labelled real pages by ``redflags train`` and saved under ``models/pagetype`` as three plain files
(``model.json``: format, intercepts, sizes; ``features.txt``: one feature a line; ``weights.npy``:
a row per feature of idf, topic weight and offers weight), so loading needs neither
scikit-learn nor pickle and every probability decomposes exactly into the cues that moved it: a
cue's contribution is its feature value times its weight, in log-odds. (The same tables as one
JSON document took 0.18 s to load, a tenth of a cold ``redflags analyze``; these take 0.03 s.)
The letter sequences (scikit-learn's ``char_wb`` 4-grams: within words, padded with a space at
each end) read word forms that the word features split, in Spanish and other languages most
("células", "celulares"): out-of-fold AUROC 0.929 -> 0.944 when added.
The words of the page's web address ("clinic", "news", "edu", "blog"), when it has one, are a
third block (``address_terms``): a file read from disk or a page without an address simply has
none of them.

Two heads, chained: ``topic`` (is the page about stem-cell or regenerative cell treatment at
all?) and ``offers`` (given that it is, does the page sell it to consumers, or report on, teach
or warn about it?). P(offers_treatment) = P(topic) x P(offers | topic).
"""

from __future__ import annotations

import copy
import heapq
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from app.engine.term_rows import TermRows

MODEL_FILE = "model.json"
FEATURES_FILE = "features.txt"
WEIGHTS_FILE = "weights.npy"
META_FILE = "meta.json"
FORMAT = 4
COLUMNS = ("idf", "topic", "offers")  # the columns of WEIGHTS_FILE
GRAM = 4  # letters in a letter-sequence feature
GRAM_PREFIX = "~"  # marks a letter sequence among the features (words never hold a "~")
ADDRESS_PREFIX = "@"  # marks a word of the page's web address (nor do they hold an "@")
# Which software serves a page says nothing about what it says (and ".html" leaned to "news").
FILE_SUFFIXES = frozenset({"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cfm"})
REBUILD_HINT = "run `make train` (or `redflags train`) to build it"

_TOKEN = re.compile(r"[^\W\d_]+|\d+|[$€£¥]")


class ModelMissingError(RuntimeError):
    """The trained page-type model is absent or unreadable: the engine cannot start without it."""


# Words up to this long are cached (a page repeats its words); a longer run of letters, as a
# hostile page may send, is read each time, so the caches stay a few megabytes.
CACHED_WORD = 32
CACHED_WORDS = 65_536  # a cache that holds this many words is emptied before it takes another


class _WordCache(dict[str, Any]):
    """``cache[word]``: ``compute(word)``, computed once for a word of up to ``CACHED_WORD``
    characters. A plain dict's look-up (its ``__missing__`` computes), mapped over a page's
    words: 32 ns a word against 154 ns for a call to an ``lru_cache``-wrapped function."""

    def __init__(self, compute: Any) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, word: str) -> Any:
        value = self.compute(word)
        if len(word) <= CACHED_WORD:
            if len(self) >= CACHED_WORDS:
                self.clear()
            self[word] = value
        return value


def _fold_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return "#" if folded.isdigit() else folded


# NFKD per word was a fifth of a reading before it was cached.
_folded = _WordCache(_fold_word)


def tokens(text: str) -> list[str]:
    """Lowercase words without accents ("células" and "celulas" are one word); numbers as #."""
    return list(map(_folded.__getitem__, _TOKEN.findall(text)))


def locate(text: str, start: int, end: int, term: str) -> tuple[int, int] | None:
    """Where in ``text[start:end]`` the words a term (one word or a pair) was counted from are,
    as offsets in ``text``; for letters, the first word that holds them; None when they are not
    there."""
    if term.startswith(GRAM_PREFIX):
        gram = term[len(GRAM_PREFIX) :]
        for word in re.finditer(r"\S+", text[start:end]):
            if gram in f" {word.group(0).lower()} ":
                return start + word.start(), start + word.end()
        return None
    found = [(_folded[m.group(0)], m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    want = term.split(" ")
    for i in range(len(found) - len(want) + 1):
        if [w for w, _, _ in found[i : i + len(want)]] == want:
            return found[i][1], found[i + len(want) - 1][2]
    return None


def terms(text: str) -> list[str]:
    """The word features the model counts: every word and every pair of neighbouring words."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


_SPACES = re.compile(r"\s\s+")


def grams(text: str, n: int = GRAM) -> list[str]:
    """The letter features: every ``n`` letters within a word padded with a space at each end,
    lowercased; a shorter word once, whole (exactly scikit-learn's ``char_wb`` analyser)."""
    words = _SPACES.sub(" ", text.lower()).split()
    each = map(_word_grams.__getitem__, words) if n == GRAM else (_grams(w, n) for w in words)
    return list(chain.from_iterable(each))


def _grams(word: str, n: int = GRAM) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))


# A page repeats its words, and each sentence is read again for evidence.
_word_grams = _WordCache(_grams)


def address_terms(url: str | None) -> list[str]:
    """The words of a web address's host and path ("@clinic", "@news", "@edu"), accents folded;
    numbers (ids), single letters and file suffixes left out; and, of a word longer than a
    letter sequence and its padding, its letter sequences ("@~stem", "@~cell" from
    "stemcellclinic"), since hosts run words together. None for a file or a page without an
    address."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return []
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    out = []
    for word in tokens(f"{host} {unquote(parts.path)}"):
        if word == "#" or len(word) < 2 or word in FILE_SUFFIXES:
            continue
        out.append(ADDRESS_PREFIX + word)
        if len(word) > GRAM + 1:
            out.extend(ADDRESS_PREFIX + GRAM_PREFIX + g for g in grams(word))
    return out


def cue_label(feature: str) -> str:
    """How a feature reads in a report: a word or pair as it is, letters with "…" where the
    word goes on (" cel" -> "cel…"), an address's word with where it was ("clinic (address)")."""
    if feature.startswith(ADDRESS_PREFIX):
        return f"{cue_label(feature[len(ADDRESS_PREFIX) :])} (address)"
    if not feature.startswith(GRAM_PREFIX):
        return feature
    gram = feature[len(GRAM_PREFIX) :]
    return (
        ("" if gram.startswith(" ") else "…") + gram.strip() + ("" if gram.endswith(" ") else "…")
    )


@dataclass(frozen=True, slots=True)
class Cue:
    """One word or word pair and how far it moved a head's log-odds (+ towards the head's yes)."""

    term: str
    contribution: float


@dataclass(frozen=True, slots=True)
class PageTypeResult:
    """The page-type model's reading of one page: probabilities and the words behind them."""

    probabilities: dict[str, float]  # offers_treatment, discusses, unrelated; they sum to 1
    p_topic: float
    p_offers: float  # P(offers | topic)
    offer_cues: tuple[Cue, ...]  # the cues that moved P(offers | topic) most, either way
    topic_cues: tuple[Cue, ...]
    # The words' and the letters' reads, and where and how much each of their terms moved
    # P(offers | topic): what ``pull`` is made of. Only the page whose selling is shown sentence
    # by sentence needs it, so it is worked out on demand (dicts of every term for every page
    # were 3% of the engine's time on the dev pages).
    offers: tuple[tuple[_Read, np.ndarray, np.ndarray], ...] = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        return max(self.probabilities, key=lambda k: self.probabilities[k])

    def pull(self) -> tuple[dict[str, float], dict[str, float]]:
        """The words and pairs, and the letter sequences (without their "~"), that pull towards
        "offers" and by how much: reused to find the sentences that make the page an offer."""
        pulls = [
            {
                read.terms[i]: c
                for i, c in zip(where.tolist(), cs.tolist(), strict=True)
                if c > 0 and not read.terms[i].startswith(ADDRESS_PREFIX)
            }
            for read, where, cs in self.offers
        ]
        return pulls[0], pulls[1] if len(pulls) > 1 else {}


@dataclass(frozen=True, slots=True)
class Block:
    """One block of features: its prefix in reports and in the saved files, its terms by row
    (as the block's analyser yields them: letter sequences without the prefix), and by row the
    idf and the two heads' weights (0.0: the head has none).

    A page's terms are found in ``terms`` all at once and their numbers gathered with numpy:
    the tables are larger than the processor's caches, and every Python object a look-up
    touches is a likely miss (with a dict of float tuples, one per term, the whole engine took
    5.0 ms a dev page; with a dict of rows 4.3 ms, three runs each, alternating)."""

    prefix: str
    terms: TermRows
    idf: np.ndarray
    topic: np.ndarray
    offers: np.ndarray

    def __len__(self) -> int:
        return len(self.terms)


@dataclass(frozen=True, slots=True)
class _Read:
    """A block's terms found on a page, in the order the page first shows them, with their
    weighted values and rows."""

    block: Block
    terms: list[str]
    values: np.ndarray
    rows: np.ndarray


class PageTypeModel:
    """The loaded artefact. ``predict`` is pure CPU work on the first ``max_chars`` of a page.

    Built from the dict ``redflags train`` fits (``from_fitted``) or from the saved files
    (``load``)."""

    def __init__(
        self,
        blocks: tuple[Block, Block, Block],
        intercepts: tuple[float, float],
        max_chars: int,
        meta: dict[str, Any],
    ) -> None:
        self.meta = meta
        self.max_chars = max_chars
        self.words, self.letters, self.address = blocks
        self.topic_intercept, self.offers_intercept = intercepts

    @classmethod
    def from_fitted(cls, model: dict[str, Any], meta: dict[str, Any]) -> PageTypeModel:
        """From the dict ``redflags train`` fits: ``idf``, ``gram_idf`` and ``address_idf`` map
        each block's terms to their idf, and ``heads`` holds each head's intercept and weights
        (terms of all blocks, letter sequences prefixed with "~")."""
        heads = model["heads"]
        topic, offers = heads["topic"]["weights"], heads["offers"]["weights"]

        def block(idf: dict[str, float], prefix: str) -> Block:
            names = [prefix + t for t in idf]
            return _block(
                prefix,
                list(idf),
                np.array(list(idf.values()), dtype=np.float64),
                np.array([topic.get(n, 0.0) for n in names], dtype=np.float64),
                np.array([offers.get(n, 0.0) for n in names], dtype=np.float64),
            )

        blocks = (
            block(model["idf"], ""),
            block(model.get("gram_idf", {}), GRAM_PREFIX),
            block(model.get("address_idf", {}), ""),
        )
        intercepts = (float(heads["topic"]["intercept"]), float(heads["offers"]["intercept"]))
        return cls(blocks, intercepts, int(model["max_chars"]), meta)

    @classmethod
    def load(cls, folder: Path) -> PageTypeModel:
        try:
            header, features, table = _read_files(folder)
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelMissingError(
                f"the page-type model is missing ({exc.filename}); {REBUILD_HINT}"
            ) from None
        except (OSError, ValueError, KeyError) as exc:
            raise ModelMissingError(
                f"the page-type model in {folder} cannot be read ({exc}); {REBUILD_HINT}"
            ) from None
        letters = _letters(header)
        spans = (
            ("", slice(0, letters.start)),
            (GRAM_PREFIX, letters),
            ("", slice(letters.stop, len(features))),
        )
        blocks = tuple(
            _block(
                prefix,
                [f[len(prefix) :] for f in features[span]],
                *(np.ascontiguousarray(table[span, column]) for column in range(len(COLUMNS))),
            )
            for prefix, span in spans
        )
        intercepts = header["intercepts"]
        return cls(
            blocks,  # type: ignore[arg-type]  # three spans, three blocks
            (float(intercepts["topic"]), float(intercepts["offers"])),
            int(header["max_chars"]),
            meta,
        )

    def with_meta(self, meta: dict[str, Any]) -> PageTypeModel:
        """The same tables under another meta (training tries calibrations on a fold's model)."""
        twin = copy.copy(self)
        twin.meta = meta
        return twin

    def _read(self, text: str, url: str | None) -> list[_Read]:
        """Each block's terms on the page: words, letters and the address's words, each
        weighted as scikit-learn's TfidfVectorizer does (sublinear term frequency times idf,
        L2-normalised: long pages do not outvote short ones), the blocks side by side divided
        by the square root of their number, as ``redflags train`` fits them. A page without an
        address has an empty third block: its text counts the same as with one, the address
        adds nothing either way."""
        text = text[: self.max_chars]
        read = [_tfidf(terms(text), self.words)]
        if len(self.letters):
            read.append(_tfidf(grams(text), self.letters))
        if len(self.address):
            read.append(_tfidf(address_terms(url), self.address))
        norm = math.sqrt(len(read))
        return [_Read(r.block, r.terms, r.values / norm, r.rows) for r in read]

    def features(self, text: str, url: str | None = None) -> dict[str, float]:
        """The page's weighted terms by feature name (letter sequences with their "~")."""
        return {
            r.block.prefix + t: v
            for r in self._read(text, url)
            for t, v in zip(r.terms, r.values.tolist(), strict=True)
        }

    def predict(self, text: str, url: str | None = None, *, cues: int = 8) -> PageTypeResult:
        read = self._read(text, url)
        topic = [_contributions(r, r.block.topic) for r in read]
        offers = [_contributions(r, r.block.offers) for r in read]
        # Summed in Python, term after term in page order, as the reading always was: numpy's
        # pairwise sum would move the last digits of a probability.
        topic_logit = self.topic_intercept + sum(
            chain.from_iterable(cs.tolist() for _, cs in topic)
        )
        offers_logit = self.offers_intercept + sum(
            chain.from_iterable(cs.tolist() for _, cs in offers)
        )
        p_topic, p_offers = _sigmoid(topic_logit), _sigmoid(offers_logit)
        probabilities = {
            "offers_treatment": p_topic * p_offers,
            "discusses": p_topic * (1.0 - p_offers),
            "unrelated": 1.0 - p_topic,
        }
        return PageTypeResult(
            probabilities=probabilities,
            p_topic=p_topic,
            p_offers=p_offers,
            offer_cues=_strongest(read, offers, cues),
            topic_cues=_strongest(read, topic, cues),
            # The words' and the letters' blocks, not the address's.
            offers=tuple((r, w, cs) for r, (w, cs) in zip(read[:2], offers[:2], strict=True)),
        )


def _block(
    prefix: str, terms: list[str], idf: np.ndarray, topic: np.ndarray, offers: np.ndarray
) -> Block:
    return Block(prefix, TermRows.of(terms), idf, topic, offers)


def _contributions(read: _Read, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where in ``read`` a head weighs a term, and each such term's value times its weight."""
    gathered = weights[read.rows]
    where = np.flatnonzero(gathered)
    return where, read.values[where] * gathered[where]


def _letters(header: dict[str, Any]) -> slice:
    words = header["blocks"]["terms"]
    return slice(words, words + header["blocks"]["letter_sequences"])


def write_model(folder: Path, model: dict[str, Any]) -> None:
    """Save a fitted model (the dict ``PageTypeModel`` takes) as ``read_model`` reads it: the
    words, then the letter sequences ("~" before each), then the address's terms ("@"), one a
    line, and beside each its idf and the two heads' weights (0 where a head has none)."""
    blocks = (("", model["idf"]), (GRAM_PREFIX, model["gram_idf"]), ("", model["address_idf"]))
    features = [prefix + term for prefix, idf in blocks for term in idf]
    if any("\n" in f or "\r" in f for f in features):
        raise ValueError("a feature holds a line break")
    idfs = [value for _, idf in blocks for value in idf.values()]
    topic, offers = (model["heads"][name]["weights"] for name in ("topic", "offers"))
    if not set(topic) | set(offers) <= set(features):
        raise ValueError("a head weighs a feature that has no idf")
    table = np.array(
        [[v, topic.get(f, 0.0), offers.get(f, 0.0)] for f, v in zip(features, idfs, strict=True)],
        dtype=np.float64,
    ).reshape(len(features), len(COLUMNS))
    header = {
        "format": FORMAT,
        "max_chars": model["max_chars"],
        "columns": list(COLUMNS),
        "blocks": {
            "terms": len(model["idf"]),
            "letter_sequences": len(model["gram_idf"]),
            "address_terms": len(model["address_idf"]),
        },
        "intercepts": {name: model["heads"][name]["intercept"] for name in ("topic", "offers")},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_text(json.dumps(header, indent=2) + "\n", encoding="utf-8")
    (folder / FEATURES_FILE).write_text("\n".join(features), encoding="utf-8")
    np.save(folder / WEIGHTS_FILE, table, allow_pickle=False)


def _read_files(folder: Path) -> tuple[dict[str, Any], list[str], np.ndarray]:
    """The header, the features and the table ``write_model`` saved; ValueError when the
    files are of another format or do not agree with each other."""
    header = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    if header.get("format") != FORMAT:
        raise ValueError(
            f"it has format {header.get('format')!r}, this engine reads format {FORMAT}"
        )
    features = (folder / FEATURES_FILE).read_text(encoding="utf-8").split("\n")
    table = np.load(folder / WEIGHTS_FILE, allow_pickle=False)
    sizes = header["blocks"]
    if table.shape != (len(features), len(COLUMNS)) or sizes["terms"] + sizes[
        "letter_sequences"
    ] + sizes["address_terms"] != len(features):
        raise ValueError(f"{FEATURES_FILE} and {WEIGHTS_FILE} do not agree with {MODEL_FILE}")
    return header, features, table


def read_model(folder: Path) -> dict[str, Any]:
    """The dict ``write_model`` saved (the one ``from_fitted`` takes)."""
    header, features, table = _read_files(folder)
    idf, topic, offers = table.T.tolist()
    words, letters = header["blocks"]["terms"], _letters(header)
    return {
        "format": FORMAT,
        "max_chars": header["max_chars"],
        "idf": dict(zip(features[:words], idf[:words], strict=True)),
        "gram_idf": dict(
            zip((f[len(GRAM_PREFIX) :] for f in features[letters]), idf[letters], strict=True)
        ),
        "address_idf": dict(zip(features[letters.stop :], idf[letters.stop :], strict=True)),
        "heads": {
            name: {
                "intercept": header["intercepts"][name],
                "weights": {f: w for f, w in zip(features, column, strict=True) if w},
            }
            for name, column in (("topic", topic), ("offers", offers))
        },
    }


def offer_sentences(
    model: PageTypeModel,
    reading: PageTypeResult,
    text: str,
    spans: Sequence[tuple[int, int]],
    n: int,
) -> list[tuple[int, int, tuple[int, int] | None, float]]:
    """The ``n`` sentences whose words pull hardest towards "offers", in page order.

    Each is (start, end, where the words of its strongest cue are, the sentence's summed pull):
    the model's reading traced back to sentences a person can check, as evidence that a page
    sells."""
    words, letters = reading.pull()
    scored = []
    for start, end in spans:
        if start >= model.max_chars:
            break
        sentence = text[start:end]
        found = [(words[t], t) for t in set(terms(sentence)) if t in words]
        found += [(letters[g], GRAM_PREFIX + g) for g in letters.keys() & grams(sentence)]
        # In a fixed order: a set's order follows string hashes, which change from one
        # process to the next, and the sum's last digits with it.
        found.sort(key=lambda pair: pair[1])
        if found:
            scored.append((start, end, max(found)[1], sum(p for p, _ in found)))
    # The words of the strongest cue are looked for in the chosen sentences only.
    best = sorted(scored, key=lambda s: -s[3])[:n]
    return [
        (start, end, locate(text, start, end, cue), total)
        for start, end, cue, total in sorted(best)
    ]


# 1 + log(n) for the counts a page has, from math.log (numpy's log may differ in the last digit).
_LOG_COUNTS = np.array([0.0] + [1.0 + math.log(n) for n in range(1, 4097)])


def _tfidf(features: list[str], block: Block) -> _Read:
    counted = Counter(features)  # in the order the page first shows them
    rows = block.terms.find(list(counted))
    present = rows >= 0
    if not present.any():
        empty = np.zeros(0)
        return _Read(block, [], empty, np.zeros(0, dtype=np.intp))
    names = list(compress(counted, present.tolist()))
    counts = np.fromiter(counted.values(), dtype=np.intp, count=len(counted))[present]
    rows = rows[present]
    if counts.max() < len(_LOG_COUNTS):
        logs = _LOG_COUNTS[counts]
    else:  # a term said thousands of times
        logs = np.array([1.0 + math.log(n) for n in counts.tolist()])
    raw = logs * block.idf[rows]
    norm = math.sqrt(sum(v * v for v in raw.tolist())) or 1.0
    return _Read(block, names, raw / norm, rows)


def _strongest(
    read: list[_Read], parts: list[tuple[np.ndarray, np.ndarray]], n: int
) -> tuple[Cue, ...]:
    """The ``n`` largest contributions, either way; of equal ones, the first on the page."""
    # Cue objects only for the few shown: a page has thousands of terms. Each block's own n
    # strongest are the only ones that can be among the page's.
    candidates = []
    for r, (where, cs) in zip(read, parts, strict=True):
        for k in _largest(np.abs(cs), n):
            candidates.append((r.block.prefix + r.terms[where[k]], float(cs[k])))
    strongest = heapq.nlargest(n, candidates, key=lambda p: abs(p[1]))
    return tuple(Cue(term, c) for term, c in strongest)


def _largest(values: np.ndarray, n: int) -> list[int]:
    """Where the ``n`` largest values are, in order of position; of equal ones, the first. (What
    a stable sort would pick, found by a partition: half the time for a page's terms.)"""
    if len(values) <= n:
        return list(range(len(values)))
    least = np.partition(values, len(values) - n)[len(values) - n]  # the n-th largest
    above = np.flatnonzero(values > least)
    level = np.flatnonzero(values == least)[: n - len(above)]
    return sorted(above.tolist() + level.tolist())


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
