"""One row per input site: what the investigator's table shows, built from the stored items.

``summarize`` condenses a report when its item is marked done, so exports, summaries and
sorting never have to open thousands of full reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.types import Report
from app.jobs.queue import JobQueue, Progress
from app.storage.batch_tables import BatchRow

MAX_PRICES = 10
TOP_FINDINGS = 5
POLARITIES = ("red_flag", "absence", "mitigating")
# Result columns, in order; the input's other columns follow them.
COLUMNS = (
    "line",
    "url",
    "final_url",
    "verdict",
    "score",
    "selling",
    "top_findings",
    "red_flags",
    "missing_info",
    "reassuring",
    "registry_ids",
    "registry_verification",
    "prices",
    "report_id",
    "report_url",
    "state",
    "error",
)
# What each column holds, for the exports' "columns" sheet and the README.
COLUMN_HELP = {
    "line": "Line of the site in your list.",
    "url": "The address as your list gave it.",
    "final_url": "The address the site's first page was read at (after redirects).",
    "verdict": "high_risk, caution, low_risk, not_applicable (not about cell treatment: not "
    "judged) or unreadable (see the legend sheet).",
    "score": "Warning-sign score, 0-100 (higher: more signs); empty when the site was not "
    "judged (not_applicable, unreadable).",
    "selling": "How strongly the site reads as selling cell treatment, 0-1 (the page-type "
    "model's probability for its most selling page); within a verdict, sites are ranked by it.",
    "top_findings": "The strongest warning signs, by category (see the legend sheet).",
    "red_flags": "How many warning signs were found.",
    "missing_info": "How many things a seller should say and does not (sellers only).",
    "reassuring": "How many reassuring signs were found (sellers only).",
    "registry_ids": "Trial registry numbers written on the site.",
    "registry_verification": "What ClinicalTrials.gov says about each number.",
    "prices": "Prices written on the site.",
    "report_id": "The stored report's id.",
    "report_url": "The full report with the evidence (opens while the service is up).",
    "state": "done, error (could not be checked), skipped (a repeat, or cancelled), or not "
    "yet checked (pending, running).",
    "error": "Why the site could not be checked or read.",
}
ReportUrl = Callable[[str], str]


def summarize(report: Report) -> dict[str, Any]:
    """The parts of a report the table needs, as JSON-ready values.

    As on the report page, reassuring and missing signs count only where a seller is judged.
    """
    shown = [
        f
        for f in report.findings
        if report.judged and (report.judges_a_seller or f.polarity == "red_flag")
    ]
    by_weight = sorted(shown, key=lambda f: -abs(f.contribution))
    categories = {
        polarity: list(dict.fromkeys(f.category for f in by_weight if f.polarity == polarity))
        for polarity in POLARITIES
    }
    counts = {p: sum(f.polarity == p for f in shown) for p in POLARITIES}
    checks = {c.nct_id: c for c in report.trial_checks}
    registry = []
    for rid in report.identifiers.registry_ids:
        check = checks.get(rid.id)
        registry.append(
            {
                "id": rid.id,
                "registry": rid.registry,
                "status": check.status if check else "not checked",
                "verdict": check.verdict if check else None,
            }
        )
    prices = list(dict.fromkeys(m.text for m in report.identifiers.prices))[:MAX_PRICES]
    problem = None
    if report.verdict == "unreadable":
        problem = report.warnings[0] if report.warnings else "the site could not be read"
    return {
        "final_url": report.pages[0].url if report.pages else None,
        "selling": report.applicability.offers_score if report.applicability else None,
        "categories": categories,
        "counts": counts,
        "registry": registry,
        "prices": prices,
        "problem": problem,
    }


@dataclass(frozen=True)
class BatchTable:
    """A stored batch as a table: what every export and the summary page are made from."""

    progress: Progress
    items: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    header: list[str]


def batch_table(queue: JobQueue, batch: BatchRow, report_url: ReportUrl) -> BatchTable:
    """Read a batch once and turn it into rows, so the API and ``redflags batch`` agree."""
    progress = queue.progress(batch.id)
    if progress is None:
        raise LookupError(f"batch {batch.id} is not in the queue")
    columns = list(batch.options.get("columns", []))
    items = list(queue.items(batch.id))
    return BatchTable(progress, items, table_rows(items, columns, report_url), header(columns))


def header(columns: list[str]) -> list[str]:
    """Column names of the table: the result columns, then the input's own columns."""
    return [*COLUMNS, *(carried_name(c) for c in columns)]


def table_rows(
    items: Iterable[Mapping[str, Any]], columns: list[str], report_url: ReportUrl
) -> list[dict[str, Any]]:
    """Export rows in input order: result columns, then the input's own columns.

    A repeated address shows the result of its first line (it was checked once, there).
    """
    pairs = [(item, _row(item, columns, report_url)) for item in items]
    first: dict[str, dict[str, Any]] = {}
    for item, row in pairs:
        if item.get("normalized_url") and item["state"] != "skipped":
            first.setdefault(item["normalized_url"], row)
    for item, row in pairs:
        original = first.get(item.get("normalized_url") or "")
        if item["state"] == "skipped" and original is not None:
            for key in COLUMNS[2:-2]:  # final_url .. report_url
                row[key] = original[key]
    return [row for _, row in pairs]


def _row(item: Mapping[str, Any], columns: list[str], report_url: ReportUrl) -> dict[str, Any]:
    result = item.get("result") or {}
    counts = result.get("counts", {})
    registry = result.get("registry", [])
    report_id = item.get("report_id")
    row: dict[str, Any] = {
        "line": item["position"],
        "url": item["url"],
        "final_url": result.get("final_url"),
        "verdict": item.get("verdict"),
        "score": item.get("score"),
        "selling": result.get("selling"),
        "top_findings": result.get("categories", {}).get("red_flag", [])[:TOP_FINDINGS],
        "red_flags": counts.get("red_flag"),
        "missing_info": counts.get("absence"),
        "reassuring": counts.get("mitigating"),
        "registry_ids": [r["id"] for r in registry],
        "registry_verification": [_verification(r) for r in registry],
        "prices": result.get("prices", []),
        "report_id": report_id,
        "report_url": report_url(report_id) if report_id else None,
        "state": item["state"],
        "error": item.get("error"),
    }
    carried = item.get("columns") or {}
    for name in columns:
        row[carried_name(name)] = carried.get(name, "")
    return row


def carried_name(name: str) -> str:
    """An input column keeps its name unless a result column has it already."""
    return f"input_{name}" if name in COLUMNS else name


def _verification(entry: Mapping[str, Any]) -> str:
    verdict = entry.get("verdict")
    label = entry["status"].replace("_", " ")
    if verdict and verdict not in ("neutral", "unverified"):
        label += f", {verdict.replace('_', ' ')}"
    return f"{entry['id']}: {label}"
