"""Many clinic sites for batch tests and the batch benchmark, made from the dev corpus.

``generate_sites`` copies the corpus sites over and over into a folder, each copy with its
own name (in the title and first heading), its own prices and its own trial numbers (distinct
clinics cite distinct trials), so a few hundred sites take well under a second to make.
``TestSite(folder)`` (tests/fetch/servers.py) then serves them, with its misbehaving endpoints
under ``/x/`` as the fault sites.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

FAULT_PATHS = {
    "hang": "/x/drip",  # one byte every half second: only the time limit ends it
    "500": "/x/status/500",
    "reset": "/x/reset",
    "huge": "/x/big",  # 50 MB; the size caps cut it
}
_PRICE = re.compile(rb"\$([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)")
_TITLE = re.compile(rb"(<title[^>]*>)", re.I)
_H1 = re.compile(rb"(<h1[^>]*>)", re.I)
_NCT = re.compile(rb"NCT\d{4}(\d{4})\b")  # the corpus's ids differ in their last four digits
NAMES = ("Aurora", "Bayside", "Cedar", "Delta", "Evergreen", "Fairview", "Granite", "Harbor")


@dataclass(frozen=True)
class GeneratedSite:
    name: str  # folder under the served root
    entry: str  # path of the entry page, e.g. /g0001-s01-desert-bloom/index.html
    template: str  # the corpus site it was made from


def generate_sites(corpus: Path, dest: Path, count: int) -> list[GeneratedSite]:
    """Write ``count`` sites into ``dest`` (folders ``gNNNN-<corpus site>``)."""
    labels = [
        json.loads(line)
        for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    pages = {
        label["site"]: {p.name: p.read_bytes() for p in (corpus / label["site"]).iterdir()}
        for label in labels
    }
    sites = []
    for n in range(count):
        label = labels[n % len(labels)]
        name = f"g{n:04d}-{label['site']}"
        folder = dest / name
        folder.mkdir(parents=True)
        clinic = f"{NAMES[n % len(NAMES)]} {n} ".encode()
        factor = 1 + (n % 9) / 10
        for file_name, data in pages[label["site"]].items():
            data = _TITLE.sub(rb"\1" + clinic, data, count=1)
            data = _H1.sub(rb"\1" + clinic, data, count=1)
            data = _NCT.sub(b"NCT%04d\\1" % n, data)
            (folder / file_name).write_bytes(_PRICE.sub(partial(_price, factor=factor), data))
        sites.append(GeneratedSite(name, f"/{name}/{label['entry']}", label["site"]))
    return sites


def _price(match: re.Match[bytes], factor: float) -> bytes:
    amount = int(match.group(1).replace(b",", b""))
    return f"${round(amount * factor):,}".encode()
