"""Fetching clinic websites safely: URL rules, the SSRF guard, the HTTP client and the crawler.

Fetching never analyses; it hands bytes and metadata to the engine.
"""

from app.fetch.client import ACCEPTED_TYPES, Fetcher
from app.fetch.crawl import CrawlResult, SkippedLink, crawl_site
from app.fetch.guard import (
    AddressGuard,
    AddressNotAllowed,
    HostNotFound,
    forbidden_reason,
    refuse_address_literal,
)
from app.fetch.page import ByteBudget, FetchedPage
from app.fetch.robots import RobotsCache, RobotsVerdict, obey_robots
from app.fetch.urls import UrlRejected, normalize_url, registrable_domain

__all__ = [
    "ACCEPTED_TYPES",
    "AddressGuard",
    "AddressNotAllowed",
    "ByteBudget",
    "CrawlResult",
    "FetchedPage",
    "Fetcher",
    "HostNotFound",
    "RobotsCache",
    "RobotsVerdict",
    "SkippedLink",
    "UrlRejected",
    "crawl_site",
    "forbidden_reason",
    "refuse_address_literal",
    "normalize_url",
    "obey_robots",
    "registrable_domain",
]
