"""``make quality``: the engine against the labelled dev corpus (confusion and per-flag F1)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.engine.analyzer import Engine
from app.engine.types import Report
from app.extract.files import load_site
from app.settings import get_settings

# Label names in labels.jsonl -> the report categories that show them.
LABEL_CATEGORIES = {
    "cure_claim": "cure_claim",
    "price_or_payment": "price_or_payment",
    "trial_registration_id": "trial_registration_id",
    "ind_mentioned": "ind_mentioned",
    "fda_status_misleading": "fda_status_misleading",
    "many_conditions": "many_conditions",
    "testimonials": "testimonials",
    "medical_tourism": "medical_tourism",
    "safety_minimized": "safety_minimized",
    "pay_to_participate": "pay_to_participate",
    "call_to_action": "pressure_sales",
}
VERDICTS = ("high_risk", "caution", "low_risk", "not_applicable", "unreadable")


@dataclass(frozen=True)
class SiteResult:
    site: str
    kind: str
    expected_risk: str
    expected_flags: frozenset[str]
    report: Report

    @property
    def found_flags(self) -> frozenset[str]:
        categories = {f.category for f in self.report.findings}
        return frozenset(label for label, cat in LABEL_CATEGORIES.items() if cat in categories)


def evaluate(corpus: Path, engine: Engine) -> list[SiteResult]:
    results = []
    settings = get_settings()
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        pages = []
        for name in label["pages"]:
            pages += load_site(
                str(corpus / label["site"] / name), max_bytes=settings.max_document_bytes
            )
        report = engine.analyze(pages, label["site"])
        flags = frozenset(k for k, v in label["flags"].items() if v)
        results.append(
            SiteResult(label["site"], label["kind"], label["expected_risk"], flags, report)
        )
    return results


def per_flag_scores(
    results: list[SiteResult],
) -> dict[str, tuple[int, int, int, float, float, float]]:
    scores = {}
    for flag in LABEL_CATEGORIES:
        tp = sum(1 for r in results if flag in r.expected_flags and flag in r.found_flags)
        fp = sum(1 for r in results if flag not in r.expected_flags and flag in r.found_flags)
        fn = sum(1 for r in results if flag in r.expected_flags and flag not in r.found_flags)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[flag] = (tp, fp, fn, precision, recall, f1)
    return scores


def _score(report: Report) -> str:
    return "-" if report.score is None else str(report.score)


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else Path("../shared/corpus/dev")
    settings = get_settings()
    engine = Engine.from_settings(settings)
    results = evaluate(corpus, engine)
    confusion = Counter((r.expected_risk, r.report.verdict) for r in results)
    print(f"Dev corpus: {len(results)} sites, rules {engine.ruleset.version}\n")
    print("expected \\ verdict " + "".join(f"{v:>15}" for v in VERDICTS))
    for risk in ("high", "medium", "low"):
        print(f"{risk:<19}" + "".join(f"{confusion[(risk, v)]:>15}" for v in VERDICTS))
    print(f"\n{'flag':<24}{'tp':>4}{'fp':>4}{'fn':>4}{'precision':>11}{'recall':>8}{'F1':>7}")
    for flag, (tp, fp, fn, p, r, f1) in per_flag_scores(results).items():
        print(f"{flag:<24}{tp:>4}{fp:>4}{fn:>4}{p:>11.2f}{r:>8.2f}{f1:>7.2f}")
    print("\nPer site (verdict, score, applicability; missed flags -, extra flags +):")
    for r in results:
        missed = sorted(r.expected_flags - r.found_flags)
        extra = sorted(r.found_flags - r.expected_flags)
        kind = r.report.applicability.kind if r.report.applicability else "-"
        diff = " ".join([f"-{m}" for m in missed] + [f"+{e}" for e in extra])
        print(
            f"  {r.site[:34]:<35}{r.expected_risk:<7}{r.report.verdict:<15}{_score(r.report):>4}  "
            f"{kind:<17}{diff}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
