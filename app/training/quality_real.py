"""``make quality-real``: the rules, the model and the whole engine on the labelled real pages.

Every figure is out-of-fold under 5-fold cross-validation grouped by host: a page is scored by a
page-type model that never saw a page of its site (the dev corpus is in every training fold). A
keyword grep is measured beside them as the floor any method must beat.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import roc_auc_score

from app.engine.analyzer import Engine
from app.engine.nlp import NlpEngine, load_or_build
from app.engine.pagetype import PageTypeModel
from app.engine.rulebook import RuleSet, load_rules
from app.engine.types import Report
from app.settings import get_settings
from app.training import pagetype as fitting
from app.training.corpus import FLAGS, Sample, dev_samples, read_labels, real_samples
from app.training.pages import entry_text, ranking_key, ranks, sample_page
from app.training.quality_dev import LABEL_CATEGORIES

_ROOT = Path(__file__).resolve().parent.parent.parent
# The keyword grep: a page is flagged when it names the treatment and two selling words.
GREP_TOPIC = re.compile(r"stem[ -]?cell|c[eé]lulas madre|exosom|\bsvf\b|mesenchymal", re.I)
GREP_WORDS = [
    re.compile(p, re.I)
    for p in (
        r"\bcure[sd]?\b|\bcura\b",
        r"\$\s?\d|usd|precio|price|cost",
        r"testimonial|testimonio",
        r"consultation|consulta|book|appointment|cita",
        r"no side effects|sin efectos secundarios|safe",
        r"regenerat|regener",
        r"clinic|cl[ií]nica",
    )
]


def grep_score(text: str) -> int:
    return sum(1 for p in GREP_WORDS if p.search(text)) if GREP_TOPIC.search(text) else 0


def evaluate(
    real: Sequence[Sample],
    dev: Sequence[Sample],
    ruleset: RuleSet,
    nlp: NlpEngine,
    meta: dict[str, Any],
) -> list[Report]:
    """Out-of-fold reports, with the committed model's C and calibration."""
    c = float(meta["model"]["C"])
    calibration = {"calibration": meta["calibration"]}
    reports: list[Report | None] = [None] * len(real)
    for train, test in fitting.folds(real):
        fitted = fitting.fit([real[i] for i in train] + list(dev), c)
        engine = Engine(ruleset, nlp, PageTypeModel.from_fitted(fitted.model, calibration))
        for i in test:
            reports[i] = engine.analyze([sample_page(real[i])], real[i].id)
    return [r for r in reports if r is not None]


def _auroc(samples: Sequence[Sample], values: Sequence[float]) -> float:
    pairs = [
        (s.expected_risk == "high", v)
        for s, v in zip(samples, values, strict=True)
        if s.expected_risk in ("high", "low")
    ]
    if len({y for y, _ in pairs}) < 2:
        return float("nan")
    return float(roc_auc_score([y for y, _ in pairs], [v for _, v in pairs]))


def _rates(samples: Sequence[Sample], flagged: Sequence[bool]) -> tuple[float, float]:
    high = [f for s, f in zip(samples, flagged, strict=True) if s.expected_risk == "high"]
    low = [f for s, f in zip(samples, flagged, strict=True) if s.expected_risk == "low"]
    return (sum(high) / len(high) if high else 0.0, sum(low) / len(low) if low else 0.0)


def _found_flags(report: Report) -> set[str]:
    categories = {
        f.category for f in report.findings if f.contribution > 0 or f.polarity == "mitigating"
    }
    return {flag for flag, cat in LABEL_CATEGORIES.items() if cat in categories}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quality-real")
    parser.add_argument("--labels", type=Path, default=_ROOT / "corpus" / "real" / "labels.jsonl")
    parser.add_argument("--cache", type=Path, default=_ROOT / "corpus" / "real" / "cache")
    parser.add_argument("--dev", type=Path, default=_ROOT.parent / "shared" / "corpus" / "dev")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = PageTypeModel.load(settings.pagetype_dir)
    thresholds = model.meta["calibration"]["thresholds"]
    c = float(model.meta["model"]["C"])
    labels = read_labels(args.labels)
    real, missing = real_samples(labels, args.cache)
    print(f"Real corpus: {len(labels)} labelled pages; {len(real)} with cached text.")
    if missing:
        print(f"Missing from the cache (not scored, rebuild per corpus/README.md): {len(missing)}")
        print("  " + " ".join(missing))
    if len(real) < 20:
        print("Too few cached pages to measure anything.")
        return 1
    dev = dev_samples(args.dev, entry_text) if args.dev.is_dir() else []
    ruleset = load_rules(settings.rules_dir)
    nlp = load_or_build(ruleset, settings.models_dir)
    reports = evaluate(real, dev, ruleset, nlp, model.meta)
    scores = ranks([ranking_key(r) for r in reports])
    p_offers = [r.applicability.offers_score if r.applicability else 0.0 for r in reports]
    rule_points = [
        sum(f.contribution for f in r.findings if f.rule_id != "sells-cell-treatment")
        for r in reports
    ]
    greps = [grep_score(s.text) for s in real]
    rows = [
        ("keyword grep (>= 3 words)", greps, [g >= 3 for g in greps]),
        ("rules alone (points > 0)", rule_points, [p > 0 for p in rule_points]),
        (
            f"model alone (P(offers) >= {model.meta['calibration']['offers']})",
            p_offers,
            [p >= model.meta["calibration"]["offers"] for p in p_offers],
        ),
        (
            f"whole engine (caution >= {thresholds['caution']})",
            scores,
            [r.verdict in ("high_risk", "caution") for r in reports],
        ),
    ]
    print(f"\nOut-of-fold, 5 folds grouped by host, C={c}; thresholds {thresholds}\n")
    print("| method | AUROC high vs low | high caught | low flagged |")
    print("|---|---|---|---|")
    for name, values, flagged in rows:
        caught, false_alarms = _rates(real, flagged)
        print(f"| {name} | {_auroc(real, values):.4f} | {caught:.2f} | {false_alarms:.2f} |")
    _by(real, reports, "lang")
    _by(real, reports, "kind")
    _flag_table(real, reports)
    _confusions(real, reports)
    return 0


def _by(real: Sequence[Sample], reports: Sequence[Report], field: str) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(real):
        groups[getattr(s, field)].append(i)
    print(f"\nBy {field}:\n")
    print(f"| {field} | pages | high/med/low | AUROC | high caught | low flagged | verdicts |")
    print("|---|---|---|---|---|---|---|")
    for key, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        sub = [real[i] for i in idx]
        rep = [reports[i] for i in idx]
        risk = Counter(s.expected_risk for s in sub)
        caught, low = _rates(sub, [r.verdict in ("high_risk", "caution") for r in rep])
        verdicts = ", ".join(f"{v} {n}" for v, n in Counter(r.verdict for r in rep).most_common())
        auroc = _auroc(sub, ranks([ranking_key(r) for r in rep]))
        print(
            f"| {key} | {len(sub)} | {risk['high']}/{risk['medium']}/{risk['low']} | "
            f"{auroc:.3f} | {caught:.2f} | {low:.2f} | {verdicts} |"
        )


def _flag_table(real: Sequence[Sample], reports: Sequence[Report]) -> None:
    print("\nPer flag (page's own voice):\n")
    print("| flag | tp | fp | fn | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    f1s = []
    for flag in FLAGS:
        tp = fp = fn = 0
        for s, r in zip(real, reports, strict=True):
            found, wanted = flag in _found_flags(r), flag in s.flags
            tp, fp, fn = (
                tp + (found and wanted),
                fp + (found and not wanted),
                fn + (wanted and not found),
            )
        p = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * rec / (p + rec) if p + rec else 0.0
        if tp + fn:
            f1s.append(f1)
        print(f"| {flag} | {tp} | {fp} | {fn} | {p:.2f} | {rec:.2f} | {f1:.2f} |")
    print(f"\nFlag macro-F1 (flags with any true page): {sum(f1s) / len(f1s):.3f}")


def _confusions(real: Sequence[Sample], reports: Sequence[Report]) -> None:
    print("\nexpected \\ verdict | high_risk | caution | low_risk | not_applicable")
    print("|---|---|---|---|---|")
    counts = Counter((s.expected_risk, r.verdict) for s, r in zip(real, reports, strict=True))
    for risk in ("high", "medium", "low"):
        cells = " | ".join(
            str(counts[(risk, v)]) for v in ("high_risk", "caution", "low_risk", "not_applicable")
        )
        print(f"| {risk} | {cells} |")
    print("\nMissed high pages and flagged low pages (id, kind, lang, score, P(offers)):")
    for s, r in zip(real, reports, strict=True):
        flagged = r.verdict in ("high_risk", "caution")
        if (s.expected_risk == "high") != flagged and s.expected_risk != "medium":
            p = r.applicability.offers_score if r.applicability else 0.0
            print(f"  {s.id} {s.expected_risk} {s.kind} {s.lang} score {r.score} P {p:.2f}")


if __name__ == "__main__":
    sys.exit(main())
