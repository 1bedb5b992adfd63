"""Read a clinic's site: the entry page plus the few same-site pages most likely to hold facts.

Prices, trial numbers and the list of conditions treated often live one click away from the
home page (``pricing.html``, ``research.html``), so the crawler follows the entry page's links
one level deep, ranked by what their path and anchor text say. It fetches, it does not
analyse: what the pages say is for the engine.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from posixpath import splitext
from typing import Any
from urllib.parse import urlsplit

from app.extract.document import ExtractionError, extract_document
from app.extract.page import ExtractedPage, Link
from app.fetch.client import ByteBudget, FetchedPage, Fetcher
from app.fetch.robots import RobotsCache
from app.fetch.urls import UrlRejected, normalize_url, registrable_domain
from app.settings import Settings

# What a link's path or anchor text says, and how much that suggests key facts are there.
# Matched as whole words (multi-word entries as phrases); each entry counts once per link.
LINK_KEYWORDS: dict[str, int] = {
    **dict.fromkeys(("price", "prices", "pricing", "precios", "preise", "tarifas"), 10),
    **dict.fromkeys(("cost", "costs", "fees", "fee", "kosten", "costos"), 9),
    **dict.fromkeys(("packages", "package", "paquetes", "financing", "payment"), 8),
    **dict.fromkeys(("research", "study", "studies", "trial", "trials", "estudio"), 8),
    **dict.fromkeys(("treatments", "treatment", "tratamientos", "therapies", "therapy"), 7),
    **dict.fromkeys(("conditions", "conditions treated", "enfermedades"), 7),
    **dict.fromkeys(("faq", "faqs", "questions", "preguntas"), 6),
    **dict.fromkeys(("rheumatoid", "arthritis", "autoimmune", "stem cell", "stem cells"), 5),
    **dict.fromkeys(("testimonials", "testimonios", "reviews", "stories", "results"), 5),
    **dict.fromkeys(("about", "about us", "nosotros", "travel", "patients"), 3),
}
_MAX_KEYWORD_WORDS = max(len(key.split()) for key in LINK_KEYWORDS)
_WORD = re.compile(r"[^\W_]+")
# Linked files that are not web pages; PDFs too, since only HTML and text are analysed yet.
ASSET_EXTENSIONS = frozenset(
    {".css", ".js", ".mjs", ".json", ".xml", ".rss"}
    | {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".avif"}
    | {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".gz", ".rar"}
    | {".mp3", ".mp4", ".m4a", ".mov", ".avi", ".webm", ".ogg", ".wav"}
    | {".woff", ".woff2", ".ttf", ".otf", ".eot"}
)


@dataclass(frozen=True)
class SkippedLink:
    url: str
    reason: str


@dataclass(frozen=True)
class CrawlResult:
    """The entry page, the secondary pages fetched (best ranked first) and what was left out."""

    entry: FetchedPage
    pages: list[FetchedPage]
    skipped_links: list[SkippedLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entry_error: str | None = None  # set when the entry page could not be read
    # The entry page as read for its links, so the caller need not parse it a second time.
    entry_page: ExtractedPage | None = None

    @property
    def all_pages(self) -> list[FetchedPage]:
        return [self.entry, *self.pages]


def link_score(link: Link) -> int:
    """How strongly a link's path and anchor text suggest a page with key facts."""
    words = _WORD.findall(f"{urlsplit(link.href).path} {link.text}".lower())
    phrases = {
        " ".join(words[i : i + n])
        for n in range(1, _MAX_KEYWORD_WORDS + 1)
        for i in range(len(words) - n + 1)
    }
    return sum(LINK_KEYWORDS.get(phrase, 0) for phrase in phrases)


Progress = Callable[[str], None]
# ``extract_document``'s signature, awaited: the batch reads entry pages in a worker process.
Extract = Callable[..., Awaitable[ExtractedPage]]


def silent(phase: str) -> None:
    """Progress that nobody is waiting on."""


async def crawl_site(
    url: str,
    fetcher: Fetcher,
    *,
    max_pages: int,
    obey_robots: bool,
    on_progress: Progress | None = None,
    extract: Extract | None = None,
) -> CrawlResult:
    """Fetch ``url`` and up to ``max_pages - 1`` same-site pages it links to.

    Only the entry page's links are followed (one level): clinic sites put their key pages in
    the navigation. Secondary pages are fetched concurrently, within the fetcher's per-host
    politeness, until ``site_timeout`` (counted from the start) or ``max_site_bytes`` runs out;
    robots.txt and the entry page are bounded by ``total_timeout`` each.

    Raises ``UrlRejected`` / ``AddressNotAllowed`` for an entry URL that may not be fetched;
    everything else is reported in the result. ``on_progress`` hears "reading page N of M" as
    pages arrive, for a person waiting on the check.
    """
    say = on_progress or silent
    settings = fetcher.settings
    deadline = asyncio.get_running_loop().time() + settings.site_timeout
    entry_url = normalize_url(url)
    robots = RobotsCache(fetcher) if obey_robots else None
    if robots is not None:
        verdict = await robots.check(entry_url)
        if not verdict.allowed:
            entry = FetchedPage.failed(entry_url, verdict.reason)
            return CrawlResult(entry, [], entry_error=_entry_error(entry))
    budget = ByteBudget(settings.max_site_bytes)
    say("reading the first page")
    entry = await fetcher.fetch(entry_url, budget=budget)
    if (entry_error := _entry_error(entry)) is not None:
        return CrawlResult(entry, [], entry_error=entry_error)

    notes: list[str] = []
    skipped: list[SkippedLink] = []
    entry_page = await _read_entry(entry, settings, notes, extract or _extract_here)
    candidates = _candidates(entry, entry_page.links, skipped) if entry_page else []
    chosen: list[str] = []
    for link_url in candidates:
        if len(chosen) == max_pages - 1:
            skipped.append(SkippedLink(link_url, f"beyond the {max_pages}-page limit"))
            continue
        verdict = await robots.check(link_url) if robots is not None else None
        if verdict is not None and not verdict.allowed:
            skipped.append(SkippedLink(link_url, verdict.reason))
        else:
            chosen.append(link_url)

    tasks = [asyncio.create_task(_fetch_secondary(fetcher, u, budget)) for u in chosen]
    total, read = len(chosen) + 1, [1]
    say(f"read page 1 of {total}")

    def one_more(_: asyncio.Task[FetchedPage]) -> None:
        read[0] += 1
        say(f"read page {read[0]} of {total}")

    for task in tasks:
        task.add_done_callback(one_more)
    timeout = max(deadline - asyncio.get_running_loop().time(), 0)
    done, pending = await asyncio.wait(tasks, timeout=timeout) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)  # let them close their responses
    if pending:
        notes.append(
            f"stopped after {settings.site_timeout:g} s for the whole site; "
            f"{len(pending)} page(s) not read"
        )
    pages = _keep_same_site(entry, [t.result() for t in tasks if t in done], skipped)
    if budget.remaining == 0:
        notes.append(f"stopped reading at {settings.max_site_bytes} bytes for the whole site")
    for task, link_url in zip(tasks, chosen, strict=True):
        if task in pending:
            skipped.append(SkippedLink(link_url, "the site time limit ran out"))
    return CrawlResult(entry, pages, skipped, notes, entry_page=entry_page)


def _entry_error(entry: FetchedPage) -> str | None:
    why = entry.error or entry.skipped or (None if entry.body.strip() else "the page is empty")
    return None if why is None else f"the entry page could not be read: {why}"


async def _extract_here(data: bytes, source: str, **options: Any) -> ExtractedPage:
    return extract_document(data, source, **options)


async def _read_entry(
    entry: FetchedPage, settings: Settings, notes: list[str], extract: Extract
) -> ExtractedPage | None:
    content_type = entry.content_type or ""
    if entry.charset:
        content_type += f"; charset={entry.charset}"
    try:
        return await extract(
            entry.body,
            entry.final_url,
            content_type=content_type or None,
            base_url=entry.final_url,
            max_bytes=settings.max_document_bytes,
            min_words=settings.min_words,
        )
    except ExtractionError as exc:
        notes.append(f"links on the entry page could not be read: {exc}")
        return None


def _candidates(
    entry: FetchedPage, links: tuple[Link, ...], skipped: list[SkippedLink]
) -> list[str]:
    """Same-site page links of the entry page, best first (ties keep document order)."""
    site = registrable_domain(entry.final_url)
    own = {entry.requested_url, entry.final_url, *entry.redirects}
    best: dict[str, tuple[int, int]] = {}  # url -> (score, first position)
    for position, link in enumerate(links):
        try:
            link_url = normalize_url(link.href)
        except UrlRejected:
            continue  # not an http(s) link: nothing a crawler could read
        if link_url in own:
            continue
        reason = _not_followed(link_url, site)
        if reason is not None:
            if link_url not in best:
                skipped.append(SkippedLink(link_url, reason))
                best[link_url] = (-1, position)
            continue
        score, first = best.get(link_url, (0, position))
        best[link_url] = (max(score, link_score(link)), first)
    ranked = sorted((v for v in best.items() if v[1][0] >= 0), key=lambda v: (-v[1][0], v[1][1]))
    return [link_url for link_url, _ in ranked]


def _not_followed(link_url: str, site: str) -> str | None:
    if registrable_domain(link_url) != site:
        return "off-site link"
    extension = splitext(urlsplit(link_url).path)[1].lower()
    if extension in ASSET_EXTENSIONS:
        return f"not a web page ({extension})"
    return None


async def _fetch_secondary(fetcher: Fetcher, url: str, budget: ByteBudget) -> FetchedPage:
    try:
        return await fetcher.fetch(url, budget=budget)
    except UrlRejected as exc:  # a secondary page is recorded, not fatal
        return FetchedPage.failed(url, str(exc))


def _keep_same_site(
    entry: FetchedPage, pages: list[FetchedPage], skipped: list[SkippedLink]
) -> list[FetchedPage]:
    """Drop pages that redirected off-site or to a page already read."""
    site = registrable_domain(entry.final_url)
    seen = {entry.final_url}
    kept = []
    for page in pages:
        if registrable_domain(page.final_url) != site:
            skipped.append(
                SkippedLink(page.requested_url, f"redirected off-site to {page.final_url}")
            )
        elif page.final_url in seen:
            skipped.append(SkippedLink(page.requested_url, f"same page as {page.final_url}"))
        else:
            seen.add(page.final_url)
            kept.append(page)
    return kept
