"""Trial registry IDs, FDA IND numbers and prices found in page text, with their offsets.

These have fixed written shapes, so precompiled regexes find them faster and more predictably
than a language model would. Each finder returns every occurrence (callers deduplicate for the
report); ``find_all`` merges them into one ordered, non-overlapping list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from app.engine.money import find_money_spans
from app.engine.scan import finditer_digit_lines
from app.engine.types import Identifiers, Money, RegistryId
from app.extract.page import ExtractedPage

IdentifierKind = Literal["registry_id", "ind_number", "money"]


@dataclass(frozen=True, slots=True)
class IdentifierMatch:
    """One hit, with offsets into the text that was searched."""

    kind: IdentifierKind
    start: int
    end: int
    text: str
    value: RegistryId | str | Money  # str is a normalised IND number


@dataclass(frozen=True, slots=True)
class _Registry:
    name: str
    pattern: str  # no capturing groups; the table wraps each in a named group
    normalise: Callable[[str], str]
    url: str | None  # record URL template with {id}, when the registry has a stable one


def _digits(prefix: str) -> Callable[[str], str]:
    """Normaliser for PREFIX+digits IDs written with any case and an optional space."""
    return lambda raw: prefix + "".join(ch for ch in raw if ch.isdigit())


def _chictr(raw: str) -> str:
    """``chictr-ior-17013290`` -> ``ChiCTR-IOR-17013290``; ``ChiCTR2000029606`` stays as is."""
    letters = [part.upper() for part in re.findall(r"[A-Za-z]+", raw[6:])]
    digits = "".join(ch for ch in raw if ch.isdigit())
    return "-".join(["ChiCTR", *letters, digits]) if letters else "ChiCTR" + digits


_SP = "[ \u00a0]"
_REGISTRIES = (
    _Registry(
        "ClinicalTrials.gov",
        r"(?i:NCT)" + _SP + r"?\d{8}",
        _digits("NCT"),
        "https://clinicaltrials.gov/study/{id}",
    ),
    _Registry(
        "ISRCTN", r"(?i:ISRCTN)" + _SP + r"?\d{8}", _digits("ISRCTN"), "https://www.isrctn.com/{id}"
    ),
    # EU CT numbers (CTIS) come before EudraCT, whose shape is their prefix.
    _Registry(
        "EU CT",
        r"(?<![\d-])(?:19|20)\d\d-5\d{5}-\d\d-\d\d",
        str,
        "https://euclinicaltrials.eu/ctis-public/view/{id}",
    ),
    _Registry(
        "EudraCT",
        r"(?<![\d-])\d{4}-\d{6}-\d\d(?!-?\d)",
        str,
        "https://www.clinicaltrialsregister.eu/ctr-search/search?query={id}",
    ),
    _Registry("ChiCTR", r"(?i:ChiCTR)(?:-?[A-Za-z]{2,4}){0,2}-?\d{8,10}", _chictr, None),
    # ANZCTR appends "p" to prospectively registered trials; it is written but not part of the ID.
    _Registry(
        "ANZCTR",
        r"(?i:ACTRN)" + _SP + r"?\d{14}(?:[pP])?",
        _digits("ACTRN"),
        "https://www.anzctr.org.au/{id}.aspx",
    ),
    _Registry("CTRI", r"(?i:CTRI)/\d{4}/\d{2,3}/\d{6}", str.upper, None),
    _Registry(
        "DRKS",
        r"(?i:DRKS)" + _SP + r"?\d{8}",
        _digits("DRKS"),
        "https://drks.de/search/en/trial/{id}",
    ),
    _Registry("jRCT", r"(?i:jRCT)[A-Za-z0-9]\d{9}", lambda r: "jRCT" + r[4:].lower(), None),
    _Registry("UMIN-CTR", r"(?i:UMIN)" + _SP + r"?\d{9}", _digits("UMIN"), None),
    _Registry("CRIS", r"(?i:KCT)\d{7}", str.upper, None),
    _Registry("IRCT", r"(?i:IRCT)\d{8,14}[Nn]\d{1,3}", str.upper, None),
    _Registry("PACTR", r"(?i:PACTR)\d{15}", str.upper, None),
    _Registry(
        "ReBec",
        r"(?i:RBR)-[0-9a-z]{6,8}",
        lambda r: "RBR-" + r[4:],
        "https://ensaiosclinicos.gov.br/rg/{id}",
    ),
    _Registry(
        "TCTR", r"(?i:TCTR)\d{11}", str.upper, "https://www.thaiclinicaltrials.org/show/{id}"
    ),
)
# One pass over the text; the outer lookarounds stop "ANCT01234567" and "NCT012345678".
_REGISTRY_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    + "|".join(f"(?P<r{i}>{reg.pattern})" for i, reg in enumerate(_REGISTRIES))
    + r")(?![A-Za-z0-9])"
)
_EUDRACT_CUE = re.compile(r"(?i:\beudract\b)\W+(?:\w+\W+){0,3}\Z")

# "IND" must be upper case (not "India", "index"); a few label words may sit before the number,
# which has five or six digits ("IND-2" is a product code) and may be written "19,876".
_IND_RE = re.compile(
    r"(?:(?<![A-Za-z-])(?:BB-)?IND(?![A-Za-z])"
    r"|(?i:\binvestigational\s+new\s+drug)(?:\s+\(IND\))?(?:\s+(?i:application))?)"
    r"(?:[ \u00a0]*(?:#|:|,|-|\(IND\)|(?i:no\.?|nr\.?|number|num\.|application)))"
    r"{0,3}[ \u00a0]*(?P<num>\d{2,3},\d{3}|\d{5,6})(?!\d|,\d|\.\d)"
)

_REGISTRY_HOSTS = (
    "clinicaltrials.gov",
    "isrctn.com",
    "anzctr.org.au",
    "clinicaltrialsregister.eu",
    "euclinicaltrials.eu",
    "chictr.org.cn",
    "ctri.nic.in",
    "drks.de",
    "jrct.niph.go.jp",
    "jrct.mhlw.go.jp",
    "umin.ac.jp",
    "cris.nih.go.kr",
    "irct.ir",
    "irct.behdasht.gov.ir",
    "pactr.org",
    "pactr.samrc.ac.za",
    "ensaiosclinicos.gov.br",
    "thaiclinicaltrials.org",
    "trialsearch.who.int",
)
_ANZCTR = next(reg for reg in _REGISTRIES if reg.name == "ANZCTR")
_ANZCTR_QUERY = re.compile(r"(?i:\bACTRN)=(\d{14})")  # TrialReview.aspx?ACTRN=12620000123456


def _registry_id(registry: _Registry, written: str) -> RegistryId:
    normal = registry.normalise(written)
    url = registry.url.format(id=normal) if registry.url else None
    return RegistryId(registry=registry.name, id=normal, text=written, url=url)


def find_registry_ids(text: str) -> list[IdentifierMatch]:
    """Trial registration numbers (NCT, ISRCTN, EudraCT, ChiCTR, ACTRN, CTRI, ...) in ``text``."""
    found = []
    for m in finditer_digit_lines(_REGISTRY_RE, text):
        registry = _REGISTRIES[int(str(m.lastgroup)[1:])]  # the rN group that matched
        if registry.name == "EudraCT" and not (
            1995 <= int(m.group()[:4]) <= 2030
            or _EUDRACT_CUE.search(text, max(0, m.start() - 60), m.start())
        ):
            continue  # an unlikely year: only an explicit "EudraCT" label makes it an ID
        found.append(
            IdentifierMatch(
                "registry_id", m.start(), m.end(), m.group(), _registry_id(registry, m.group())
            )
        )
    return found


def find_ind_numbers(text: str) -> list[IdentifierMatch]:
    """FDA IND numbers written after "IND", "BB-IND" or "Investigational New Drug (application)"."""
    return [
        IdentifierMatch(
            "ind_number", m.start(), m.end(), m.group(), m.group("num").replace(",", "")
        )
        for m in finditer_digit_lines(_IND_RE, text)
    ]


def find_money(text: str) -> list[IdentifierMatch]:
    """Prices with a written currency; see :mod:`app.engine.money` for the formats read."""
    return [
        IdentifierMatch("money", start, end, text[start:end], money)
        for start, end, money in find_money_spans(text)
    ]


_PRIORITY = {"registry_id": 0, "ind_number": 1, "money": 2}


def find_all(text: str) -> list[IdentifierMatch]:
    """All identifiers sorted by start; on overlap the earlier, longer, then registry hit wins."""
    hits = find_registry_ids(text) + find_ind_numbers(text) + find_money(text)
    hits.sort(key=lambda h: (h.start, h.start - h.end, _PRIORITY[h.kind]))
    kept: list[IdentifierMatch] = []
    for hit in hits:
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def registry_id_from_url(url: str) -> RegistryId | None:
    """The trial a registry record URL points to, e.g. ``clinicaltrials.gov/study/NCT01234567``.

    Only registry hosts count: an NCT number in a news or PubMed URL is a mention, not a record.
    The returned ``url`` is the registry's canonical record URL, or ``url`` itself when the
    registry has none (CTRI, UMIN and others address records by internal numbers).
    """
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in _REGISTRY_HOSTS):
        return None
    where = unquote(parts.path + "?" + parts.query)
    if (query := _ANZCTR_QUERY.search(where)) is not None:
        found = _registry_id(_ANZCTR, "ACTRN" + query.group(1))
    else:
        hits = [h.value for h in find_registry_ids(where) if isinstance(h.value, RegistryId)]
        if not hits:
            return None
        found = hits[0]
    return found if found.url else found.model_copy(update={"url": url})


def collect_identifiers(
    ids: Identifiers, page: ExtractedPage, matches: list[IdentifierMatch]
) -> None:
    """Add a page's registry ids, IND numbers and prices to the site's ``ids``."""
    known = {r.id for r in ids.registry_ids}
    for match in matches:
        value = match.value
        if isinstance(value, RegistryId) and value.id not in known:
            known.add(value.id)
            ids.registry_ids.append(value)
        elif match.kind == "ind_number" and isinstance(value, str):
            if value not in ids.ind_numbers:
                ids.ind_numbers.append(value)
        elif isinstance(value, Money):
            ids.prices.append(value.model_copy(update={"url": page.source}))
    # schema.org prices (JSON-LD) are not visible text, so they list as identifiers only.
    for listed in page.structured_prices:
        for match in find_money(listed):
            if isinstance(match.value, Money):
                ids.prices.append(match.value.model_copy(update={"url": page.source}))
    for url in page.registry_links:
        linked = registry_id_from_url(url)
        if linked is not None and linked.id not in known:
            known.add(linked.id)
            ids.registry_ids.append(linked)
