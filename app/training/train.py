"""``redflags train`` / ``make train``: page-type model and score thresholds from labelled pages.

1. The regularisation is chosen by 5-fold cross-validation grouped by host.
2. Every page is scored by the whole engine with the page-type model of the fold that did not
   see its host; the verdict thresholds are set on those out-of-fold scores, so that a low page
   (news, research, regulators) is flagged at most ``MAX_LOW_FLAGGED`` of the time. The
   P(offers) at which a page counts as selling (and so is at least ``caution``) and the score
   thresholds share that budget: P(offers) thresholds are tried from the one that types at most
   ``MAX_LOW_OFFERS`` of low pages as selling down, until one flags more low pages than the
   budget allows, and the one that catches the most high pages within the budget is kept.
3. The final model is fitted on every page and saved with a meta that records what it was
   trained on (the labels' SHA-1, counts, library versions) and the cross-validated figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.engine.analyzer import Engine
from app.engine.nlp import NlpEngine
from app.engine.pagetype import META_FILE, PageTypeModel, write_model
from app.engine.rulebook import RuleSet
from app.engine.scoring import Scorer
from app.engine.types import Report
from app.training import pagetype as fitting
from app.training.corpus import Sample, dev_samples, read_labels, real_samples, sha1
from app.training.pages import ranking_key, ranks, sample_page, score_of

# A cache missing more than this share of the labelled real pages is not trained on: the model
# it would make replaces the committed one with a weaker one, with nothing said but a log line.
MAX_MISSING = 0.05
MAX_LOW_FLAGGED = 0.05  # caution or worse on at most this share of low pages
MAX_LOW_OFFERS = 0.03  # typed as selling (hence at least caution) on at most this share
MAX_LOW_HIGH_RISK = 0.01  # high_risk on at most this share of low pages
# P(offers) thresholds tried: from the MAX_LOW_OFFERS one down in these steps, to this least.
OFFERS_STEP, OFFERS_LEAST = 0.02, 0.7


class CacheIncompleteError(ValueError):
    """Too many labelled real pages have no cached text to train on."""


@dataclass(frozen=True)
class Paths:
    labels: Path
    cache: Path
    dev: Path | None
    out: Path


def load_samples(paths: Paths, extract: Callable[[Path], str]) -> tuple[list[Sample], list[str]]:
    real, missing = real_samples(read_labels(paths.labels), paths.cache)
    dev = dev_samples(paths.dev, extract) if paths.dev and paths.dev.is_dir() else []
    return real + dev, missing


def oof_reports(
    samples: Sequence[Sample],
    oof: Sequence[tuple[int, PageTypeModel]],
    ruleset: RuleSet,
    nlp: NlpEngine,
    offers: float,
) -> list[Report]:
    """Each page's report from an engine whose page-type model never saw the page's host
    (``oof``: each sample's index with its fold's model), typing pages as selling from
    ``offers``."""
    reports: list[Report | None] = [None] * len(samples)
    meta = {"calibration": {"offers": offers}}
    engines: dict[int, Engine] = {}
    for i, model in oof:
        if (engine := engines.get(id(model))) is None:
            engine = engines[id(model)] = Engine(ruleset, nlp, model.with_meta(meta))
        reports[i] = engine.analyze([sample_page(samples[i])], samples[i].id)
    return [r for r in reports if r is not None]


def choose_offers(samples: Sequence[Sample], p_offers: Sequence[float]) -> float:
    """The lowest P(offers) from 0.5 up at which few enough low pages read as selling."""
    lows = [p for x, p in zip(samples, p_offers, strict=True) if x.expected_risk == "low"]
    for step in range(50, 100):
        t = step / 100
        if sum(p >= t for p in lows) <= MAX_LOW_OFFERS * len(lows):
            return t
    return 0.99


def choose_thresholds(
    samples: Sequence[Sample],
    reports: Sequence[Report],
    floor: dict[str, float],
    floored: Callable[[Report], bool],
) -> dict[str, float]:
    """The lowest score thresholds that keep false alarms on low pages within the goals; a low
    page the seller floor holds for (``floored``) is flagged whatever its score. Calibration
    only raises the hand-set thresholds of scoring.yaml (``floor``), never lowers them."""
    lows = [r for x, r in zip(samples, reports, strict=True) if x.expected_risk == "low"]
    sellers = {id(r) for r in lows if floored(r)}

    def lowest(share: float, floor: bool) -> int:
        for t in range(1, 101):
            flagged = sum(score_of(r) >= t or (floor and id(r) in sellers) for r in lows)
            if flagged <= share * len(lows):
                return t
        return 100

    caution = max(lowest(MAX_LOW_FLAGGED, floor=True), floor["caution"])
    high = max(lowest(MAX_LOW_HIGH_RISK, floor=False), floor["high_risk"], caution + 1)
    return {"caution": caution, "high_risk": high}


def flagged_share(
    samples: Sequence[Sample],
    reports: Sequence[Report],
    thresholds: dict[str, float],
    risk: str,
    floored: Callable[[Report], bool],
) -> float:
    """The share of ``risk`` pages at ``caution`` or worse, as ``choose_thresholds`` counts."""
    pages = [r for x, r in zip(samples, reports, strict=True) if x.expected_risk == risk]
    flagged = [score_of(r) >= thresholds["caution"] or floored(r) for r in pages]
    return sum(flagged) / len(flagged) if flagged else 0.0


def calibrate(
    samples: Sequence[Sample],
    oof: Sequence[tuple[int, PageTypeModel]],
    ruleset: RuleSet,
    nlp: NlpEngine,
    p_offers: Sequence[float],
    log: Callable[[str], None],
) -> tuple[float, dict[str, float], list[Report], dict[str, float]]:
    """The P(offers) threshold and score thresholds that catch the most high pages within the
    false-alarm budget; with the out-of-fold reports they were set on, and each try's catch."""
    strict = choose_offers(samples, p_offers)
    best: tuple[float, float, dict[str, float], list[Report]] | None = None
    tries: dict[str, float] = {}
    scorer = Scorer(ruleset.scoring)

    def floored(report: Report) -> bool:
        kind = report.applicability.kind if report.applicability else None
        return scorer.floored(report.findings, kind)

    steps = int(round((strict - OFFERS_LEAST) / OFFERS_STEP))
    for offers in (round(strict - k * OFFERS_STEP, 2) for k in range(max(0, steps) + 1)):
        reports = oof_reports(samples, oof, ruleset, nlp, offers)
        thresholds = choose_thresholds(
            samples,
            reports,
            ruleset.scoring.thresholds.model_dump(),
            floored,
        )
        share = flagged_share(samples, reports, thresholds, "high", floored)
        false_alarms = flagged_share(samples, reports, thresholds, "low", floored)
        log(
            f"  P(offers) >= {offers}: thresholds {thresholds}, high pages caught {share:.3f}, "
            f"low pages flagged {false_alarms:.3f}"
        )
        if false_alarms > MAX_LOW_FLAGGED or thresholds["high_risk"] > 100:
            # Selling alone spends the budget: no score threshold fits, nor any lower P(offers).
            if best is not None:
                break
            continue
        tries[str(offers)] = round(share, 4)
        if best is None or share > best[0]:  # ties keep the stricter P(offers)
            best = (share, offers, thresholds, reports)
    if best is None:
        raise ValueError("no P(offers) threshold keeps the low pages flagged within the budget")
    return best[1], best[2], best[3], tries


def train(
    paths: Paths,
    ruleset: RuleSet,
    nlp: NlpEngine,
    extract: Callable[[Path], str],
    log: Callable[[str], None] = print,
    *,
    allow_missing: bool = False,
) -> dict[str, Any]:
    samples, missing = load_samples(paths, extract)
    labelled = len(missing) + sum(s.source == "real" for s in samples)
    if len(missing) > MAX_MISSING * labelled and not allow_missing:
        raise CacheIncompleteError(
            f"{len(missing)} of the {labelled} labelled real pages have no text in {paths.cache}; "
            "a model trained without them would replace the committed one with a weaker one. "
            "Rebuild the cache as corpus/README.md says, or pass --allow-missing to train anyway."
        )
    if missing:
        log(f"{len(missing)} labelled pages have no cached text and are left out: {missing[:10]}")
    log(f"training on {len(samples)} pages")
    c, grid = fitting.choose_c(samples, log)
    oof = fitting.out_of_fold(samples, c)
    p_offers = [
        m.predict(samples[i].text, samples[i].url).probabilities["offers_treatment"] for i, m in oof
    ]
    offers, thresholds, reports, tries = calibrate(samples, oof, ruleset, nlp, p_offers, log)
    scores = ranks([ranking_key(r) for r in reports])
    real = [i for i, s in enumerate(samples) if s.source == "real"]
    figures = {
        "c_grid_auroc": grid,
        "model_auroc_high_vs_low": round(fitting.offer_auroc(samples, p_offers), 4),
        "model_auroc_high_vs_low_real": round(
            fitting.offer_auroc([samples[i] for i in real], [p_offers[i] for i in real]), 4
        ),
        "engine_auroc_high_vs_low": round(fitting.offer_auroc(samples, scores), 4),
        "engine_auroc_high_vs_low_real": round(
            fitting.offer_auroc([samples[i] for i in real], [scores[i] for i in real]), 4
        ),
    }
    log(f"chosen C={c}; out-of-fold {json.dumps(figures)}")
    log(f"P(offers) threshold {offers}; score thresholds {thresholds}")
    final = fitting.fit(samples, c)
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels_sha1": sha1(paths.labels.read_text(encoding="utf-8")),
        "dev_labels_sha1": (
            sha1((paths.dev / "labels.jsonl").read_text(encoding="utf-8")) if paths.dev else None
        ),
        "rules_version": ruleset.version,
        "pages": len(samples),
        "pages_without_text": missing,
        "label_counts": fitting.label_counts(samples),
        "libraries": fitting.library_versions(),
        "model": {
            "kind": "two logistic regressions (topic; offers given topic) over tf-idf words "
            "and word pairs beside tf-idf four-letter sequences within words (char_wb) and "
            "the words (and long words' four-letter sequences) of the page's web address",
            "C": c,
            "max_chars": fitting.MAX_CHARS,
            "min_df": fitting.MIN_DF,
            "terms": len(final.model["idf"]),
            "letter_sequences": len(final.model["gram_idf"]),
            "letter_min_df": fitting.GRAM_MIN_DF,
            "address_terms": len(final.model["address_idf"]),
            "address_min_df": fitting.ADDRESS_MIN_DF,
        },
        "cross_validation": {"folds": fitting.FOLDS, "grouped_by": "host", **figures},
        "calibration": {
            "offers": offers,
            "offers_tried_high_caught": tries,
            "thresholds": thresholds,
            "goal": {
                "offers_tried_from_low_pages_typed_as_selling_at_most": MAX_LOW_OFFERS,
                "low_pages_flagged_at_most": MAX_LOW_FLAGGED,
                "low_pages_high_risk_at_most": MAX_LOW_HIGH_RISK,
            },
            "on": "out-of-fold whole-engine scores of every training page",
        },
    }
    paths.out.mkdir(parents=True, exist_ok=True)
    write_model(paths.out, final.model)
    (paths.out / META_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return meta
