"""What the report page shows, prepared in Python so the templates only lay it out.

Everything here that returns ``Markup`` builds it from escaped pieces: a clinic's page is
untrusted text, and the only markup we add around it is our own ``<mark>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from app.engine.types import Evidence, Finding, PageInfo, Report, TrialCheck

REGISTRY_HOME = "https://clinicaltrials.gov/"


SECTIONS = (
    ("red_flag", "Warning signs", "warning-signs"),
    ("absence", "Missing information", "missing-information"),
    ("mitigating", "Reassuring signs", "reassuring-signs"),
)
EMPTY_SECTION = {
    "red_flag": "We found no warning signs on the pages we read.",
    "absence": "Nothing we look for was missing.",
    "mitigating": "We found no reassuring signs on the pages we read.",
}

TRIAL_STATUS = {
    "verified": "Found on ClinicalTrials.gov",
    "not_found": "Not found on ClinicalTrials.gov",
    "invalid": "Not a valid ClinicalTrials.gov number",
    "unverified": "Could not be checked (the registry did not answer)",
}
TRIAL_VERDICT = {
    "supports_legitimacy": "Reassuring",
    "red_flag": "Warning sign",
    "neutral": "Neither good nor bad",
    "unverified": "Unknown",
}

# Publishers of the rules' references, by domain (subdomains included).
SOURCES = {
    "fda.gov": "FDA",
    "ftc.gov": "FTC",
    "clinicaltrials.gov": "ClinicalTrials.gov",
    "closerlookatstemcells.org": "ISSCR, A Closer Look at Stem Cells",
    "isscr.org": "ISSCR",
    "arthritis.org": "Arthritis Foundation",
    "nejm.org": "New England Journal of Medicine",
    "who.int": "World Health Organization",
    "doi.org": "Research article",
}
ACRONYMS = {"fda", "ftc", "ind", "nih", "isscr"}

# The questions the FDA, the ISSCR and the Arthritis Foundation tell patients to ask.
QUESTIONS = (
    "Is this treatment approved by the FDA for my condition? If not, what is its FDA IND "
    "(Investigational New Drug) number? Please give it to me in writing.",
    "Is this a clinical trial? What is its registry number (for example NCT followed by "
    "8 digits) so I can look it up on ClinicalTrials.gov?",
    "Who pays for the treatment and for the study? Why would a participant pay to take part?",
    "Which doctor is responsible for my care, and what is their specialty? Are they trained "
    "in treating rheumatoid arthritis?",
    "What are the risks and side effects, and how often have they happened here?",
    "If something goes wrong, who treats me, where, and who pays for that care?",
)


@dataclass(frozen=True)
class Section:
    polarity: str
    heading: str
    anchor: str
    findings: list[Finding]
    empty: str


def sections(report: Report) -> list[Section]:
    """The finding groups a reader is shown, in reading order, strongest first within each.

    All three where a seller is judged; on a page that discusses treatment only the warning signs
    in its own voice; none where the site was not judged (not about cell treatment, unreadable).
    """
    if not report.judged:
        return []
    shown = SECTIONS if report.judges_a_seller else SECTIONS[:1]
    out = []
    for polarity, heading, anchor in shown:
        group = [f for f in report.findings if f.polarity == polarity]
        group.sort(key=lambda f: abs(f.contribution), reverse=True)
        out.append(Section(polarity, heading, anchor, group, EMPTY_SECTION[polarity]))
    return out


def highlight(evidence: Evidence) -> Markup:
    """The quote, escaped, with the matched words wrapped in ``<mark>``.

    The offsets are trusted only when they point at the match; otherwise the match is looked up
    in the quote, and a quote without it is shown unmarked rather than marked wrongly.
    """
    quote, match = evidence.quote, evidence.match
    span = _match_span(quote, match, evidence.start - evidence.quote_start)
    if span is None:
        return escape(quote)
    start, end = span
    return Markup("{}<mark>{}</mark>{}").format(quote[:start], quote[start:end], quote[end:])


def _match_span(quote: str, match: str, offset: int) -> tuple[int, int] | None:
    if not match:
        return None
    end = offset + len(match)
    if offset >= 0 and end <= len(quote) and quote[offset:end].casefold() == match.casefold():
        return offset, end
    # Whole words only: "cure" must not light up inside "secure" next to the real match.
    before = r"(?<!\w)" if match[0].isalnum() else ""
    after = r"(?!\w)" if match[-1].isalnum() else ""
    found = re.search(before + re.escape(match) + after, quote, re.IGNORECASE)
    return (found.start(), found.end()) if found else None


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an http(s) address we may link to; never ``javascript:`` and the like."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def display_url(url: str) -> str:
    """An address as people write it: no ``https://``, no lone trailing slash."""
    short = url.removeprefix("https://").removeprefix("http://")
    return short[:-1] if short.endswith("/") and short.count("/") == 1 else short


def page_titles(report: Report) -> dict[str, str]:
    return {page.url: page.title for page in report.pages if page.title}


def site_name(report: Report, final_url: str | None) -> str:
    """The host a patient recognises (``clinic.example``), or the source as given."""
    url = final_url or report.source
    host = urlsplit(url).hostname if "://" in url else None
    return (host or url).removeprefix("www.")


def page_state(page: PageInfo) -> str:
    """How a page fetch went, in words."""
    if page.error:
        return f"Not read: {page.error}"
    if page.status is not None and page.status >= 400:
        return f"Not read: the site answered with error {page.status}"
    if page.words:
        return f"Read ({page.words:,} words)"
    return "Read (almost no text)"


def trial_status(check: TrialCheck) -> str:
    return TRIAL_STATUS.get(check.status, check.status)


def trial_verdict(check: TrialCheck) -> str:
    return TRIAL_VERDICT.get(check.verdict, check.verdict)


def when(moment: datetime | None) -> str:
    """A date a person reads the same anywhere: ``14 November 2026, 09:05 UTC``."""
    if moment is None:
        return "unknown time"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%-d %B %Y, %H:%M UTC")


def points(finding: Finding) -> str:
    """The finding's share of the score, in words."""
    amount = f"{abs(finding.contribution):g}"
    unit = "point" if amount == "1" else "points"
    if finding.contribution < 0:
        return f"Takes {amount} {unit} off the score"
    return f"Adds {amount} {unit} to the score"


def reference_label(url: str) -> str:
    """Link text a patient can judge: who published it and, from the address, what it is about."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    name = next(
        (
            label
            for domain, label in SOURCES.items()
            if host == domain or host.endswith("." + domain)
        ),
        host or url,
    )
    path = parts.path.strip("/")
    if host == "doi.org" and path:
        return f"{name} (doi {path})"
    slug = path.rsplit("/", 1)[-1]
    if "-" not in slug:  # no words in the address to describe the page
        return name
    words = [w.upper() if w in ACRONYMS else w for w in slug.lower().split("-") if w]
    title = " ".join(words)
    return f"{name}: {title[:1].upper()}{title[1:]}"
