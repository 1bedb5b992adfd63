"""The labelled corpora the model learns from and is measured on.

The real corpus is ``corpus/real/labels.jsonl`` (addresses, queries, sizes, SHA-1s and labels:
facts and our own judgements, in git) plus a git-ignored text cache (``corpus/real/cache``,
someone else's writing, never committed). A cached text counts only when its SHA-1 matches the
label, so an edited or re-fetched page can never train the model under an old label.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

Risk = Literal["high", "medium", "low"]
Kind = Literal[
    "clinic_marketing",
    "trial_recruitment",
    "regulator_or_patient_advocacy",
    "academic_or_hospital_info",
    "research_article",
    "news_or_investigation",
    "legal_or_ethics",
    "unrelated_medical",
    "forum",
    "other",
]


class Flags(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cure_claim: bool
    price_or_payment: bool
    trial_registration_id: bool
    ind_mentioned: bool
    fda_status_misleading: bool
    many_conditions: bool
    testimonials: bool
    medical_tourism: bool
    safety_minimized: bool
    pay_to_participate: bool
    call_to_action: bool

    def true(self) -> frozenset[str]:
        return frozenset(name for name in FLAGS if getattr(self, name))


FLAGS = tuple(Flags.model_fields)


class RealLabel(BaseModel):
    """One line of ``corpus/real/labels.jsonl``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]{2}-\d{3}$")
    url: str
    query: str
    chars: int = Field(gt=0)
    sha1: str = Field(pattern=r"^[0-9a-f]{40}$")
    lang: str = Field(pattern=r"^[a-z]{2}$")
    kind: Kind
    expected_risk: Risk
    flags: Flags
    country: str = Field(pattern=r"^[A-Z]{2}$")
    product: str
    condition: str
    notes: str = Field(min_length=10)

    @property
    def host(self) -> str:
        host = (urlsplit(self.url).hostname or "").lower()
        return host.removeprefix("www.")


@dataclass(frozen=True, slots=True)
class Sample:
    """One page with its text and labels, from either corpus."""

    id: str
    group: str  # pages of one host are never on both sides of a cross-validation split
    text: str
    lang: str
    kind: str
    expected_risk: str
    flags: frozenset[str]
    source: str  # "real" or "dev"
    product: str | None = None  # what the page is about (real labels only)
    url: str | None = None  # the page's web address (real pages only)


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def read_labels(path: Path) -> list[RealLabel]:
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                labels.append(RealLabel.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    return labels


def real_samples(labels: Iterable[RealLabel], cache: Path) -> tuple[list[Sample], list[str]]:
    """The labelled pages whose cached text is present and unchanged; and the ids missing."""
    samples, missing = [], []
    for label in labels:
        file = cache / f"{label.id}.txt"
        text = file.read_text(encoding="utf-8") if file.is_file() else None
        if text is None or sha1(text) != label.sha1:
            missing.append(label.id)
            continue
        samples.append(
            Sample(
                id=label.id,
                group=label.host,
                text=text,
                lang=label.lang,
                kind=label.kind,
                expected_risk=label.expected_risk,
                flags=label.flags.true(),
                source="real",
                product=label.product,
                url=label.url,
            )
        )
    return samples, missing


def dev_samples(corpus: Path, extract: Callable[[Path], str]) -> list[Sample]:
    """The fictional dev corpus: each site's entry page under the site's labels."""
    out = []
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        text = extract(corpus / label["site"] / label["entry"])
        out.append(
            Sample(
                id=label["site"],
                group=f"dev:{label['site']}",
                text=text,
                lang="en",
                kind=label["kind"],
                expected_risk=label["expected_risk"],
                flags=frozenset(k for k, v in label["flags"].items() if v),
                source="dev",
            )
        )
    return out
