"""The report as plain text for a person at a terminal."""

from __future__ import annotations

import textwrap

from app.engine.types import Finding, Report

VERDICT_WORDS = {
    "high_risk": "HIGH RISK",
    "caution": "CAUTION",
    "low_risk": "LOW RISK",
    "not_applicable": "NOT APPLICABLE",
    "unreadable": "UNREADABLE",
}
SECTIONS = (
    ("red_flag", "Warning signs"),
    ("absence", "Missing information"),
    ("mitigating", "Reassuring signs"),
)


def render_text(report: Report, *, explain: bool = False, width: int = 88) -> str:
    lines = [
        f"{report.source}",
        f"Verdict: {VERDICT_WORDS[report.verdict]}   "
        + (f"score {report.score}/100" if report.judged else "not scored"),
        _wrap(report.summary, width),
    ]
    if report.applicability is not None:
        app = report.applicability
        lines.append(
            f"Site: {app.kind.replace('_', ' ')} (P(offers) {app.offers_score:.2f}) · "
            f"language: {report.language}"
        )
        if explain:
            lines += [_wrap(r, width, "  ") for r in app.reasons]
            if app.cues:
                cues = ", ".join(
                    f"“{c.term}” {c.contribution:+.2f} ({c.direction})" for c in app.cues
                )
                lines.append(_wrap(f"what moved the page-type model most: {cues}", width, "  "))
    # As on the report page: reassuring and missing signs only where a seller is judged.
    shown = SECTIONS if report.judges_a_seller else SECTIONS[:1]
    for polarity, heading in shown:
        group = [f for f in report.findings if f.polarity == polarity]
        if group:
            lines += ["", f"{heading} ({len(group)})"]
            lines += [_finding(f, explain, width) for f in group]
    ids = report.identifiers
    if ids.registry_ids or ids.ind_numbers or report.trial_checks:
        found = [r.id for r in ids.registry_ids] + [f"IND {n}" for n in ids.ind_numbers]
        lines += ["", "Identifiers: " + ", ".join(found)]
    for check in report.trial_checks:
        lines.append(_wrap(f"- {check.nct_id}: {check.verdict_reason} ({check.url})", width, "  "))
    failed = [p for p in report.pages if p.error]
    if failed:
        lines += ["", "Pages not read:"] + [f"  - {p.url}: {p.error}" for p in failed]
    if report.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in report.warnings]
    if explain and report.discarded:
        lines += ["", f"Set aside by context ({len(report.discarded)})"]
        for d in report.discarded:
            lines.append(_wrap(f"- {d.rule_id} “{d.match}”: {d.reason}  [{d.url}]", width, "  "))
    lines += ["", f"rules {report.rules_version} · engine {report.engine_version}"]
    return "\n".join(lines)


def _finding(finding: Finding, explain: bool, width: int) -> str:
    sign = "+" if finding.contribution >= 0 else ""
    out = [f"* {finding.title}  [{finding.rule_id}, {sign}{finding.contribution:g} points]"]
    for ev in finding.evidence[:3]:
        if ev.match:
            out.append(_wrap(f"“{ev.quote}”  ({ev.url})", width, "    "))
        else:
            out.append(_wrap(f"{ev.quote} ({ev.url})", width, "    "))
    if finding.occurrences > 3:
        out.append(f"    … and {finding.occurrences - 3} more")
    out.append(_wrap(f"Why it matters: {finding.explanation}", width, "    "))
    out.append(_wrap(f"What to do: {finding.advice}", width, "    "))
    if explain and finding.decisions:
        for d in finding.decisions[:5]:
            adj = (
                "; ".join(f"{a.modifier} by “{a.trigger}” ×{a.factor:g}" for a in d.adjustments)
                or "no context change"
            )
            out.append(
                _wrap(
                    f"matched “{d.match}” ({d.pattern}), weight {d.base_weight:g} → "
                    f"{d.weight:g}: {adj}",
                    width,
                    "      ",
                )
            )
    return "\n".join(out)


def _wrap(text: str, width: int, indent: str = "") -> str:
    # Never inside a word or at a hyphen: an address split over two lines no longer opens.
    return textwrap.fill(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
