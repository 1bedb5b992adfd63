"""All tunable limits and paths, read once from ``REDFLAGS_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _shipped(*parts: str) -> Path:
    """A data folder of the project: the checkout's own (a source tree, the Docker image's /app)
    or, for an installed wheel, the copy shipped inside the package."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "rules").is_dir():
        return _CHECKOUT.joinpath(*parts)
    return _PACKAGE.joinpath("_shipped", *parts)


def _pipeline_dir() -> Path:
    """Where the built spaCy pipelines are kept: beside the rules in a checkout; in the user's
    cache for an installed wheel, whose package folder may not be writable."""
    if (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT / "models" / "pipeline"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "redflags" / "pipeline"


class Settings(BaseSettings):
    """Typed settings; every field can be set as ``REDFLAGS_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="REDFLAGS_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    # Engine
    rules_dir: Path = Field(default_factory=lambda: _shipped("rules"))
    models_dir: Path = Field(default_factory=_pipeline_dir)
    pagetype_dir: Path = Field(default_factory=lambda: _shipped("models", "pagetype"))
    max_document_bytes: int = Field(5_000_000, gt=0, description="Bytes of one page analysed.")
    max_text_chars: int = Field(1_000_000, gt=0, description="Characters of text per page.")
    min_words: int = Field(40, ge=0, description="Below this a page 'has almost no text'.")

    # Fetching (scraper)
    user_agent: str = (
        "redflags/0.1 (+https://github.com/redflags-project/redflags; stem-cell clinic checker)"
    )
    allowed_networks: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = (
        Field(
            default_factory=list,
            description="Networks the SSRF guard lets through, e.g. 127.0.0.0/8 for local tests.",
        )
    )
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(10.0, gt=0)
    total_timeout: float = Field(20.0, gt=0, description="Seconds for one response, all in.")
    site_timeout: float = Field(60.0, gt=0, description="Seconds for a whole site.")
    max_response_bytes: int = Field(3_000_000, gt=0)
    max_decompressed_bytes: int = Field(6_000_000, gt=0)
    max_redirects: int = Field(5, ge=0)
    max_pages: int = Field(8, ge=1)
    max_site_bytes: int = Field(15_000_000, gt=0)
    per_host_concurrency: int = Field(2, ge=1)
    per_host_delay: float = Field(0.25, ge=0, description="Seconds between requests to one host.")
    keepalive: float = Field(
        5.0, gt=0, description="Seconds a host's idle connections stay open for its next request."
    )
    obey_robots_single: bool = False
    obey_robots_batch: bool = True

    # Trial registry verification
    registry_base_url: str = "https://clinicaltrials.gov"
    registry_cache_ttl: float = Field(86_400.0, ge=0)
    registry_timeout: float = Field(10.0, gt=0)
    registry_max_tries: int = Field(
        3, ge=1, description="Tries per registry request when it meets a 429, a 5xx or no network."
    )
    registry_max_retry_wait: float = Field(
        30.0, ge=0, description="Longest wait between tries; a longer Retry-After gives up."
    )
    registry_requests_per_minute: float = Field(
        50.0, gt=0, description="Client-side courtesy limit for ClinicalTrials.gov."
    )
    registry_burst: int = Field(5, ge=1, description="Requests allowed back to back.")
    registry_batch_size: int = Field(
        100, ge=1, le=1000, description="NCT ids asked for in one list request."
    )

    # Storage
    data_dir: Path = Field(
        Path("data"), description="Folder for the default SQLite database (created on start)."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; "
        "default: SQLite at data_dir/redflags.db.",
    )
    migrate_on_start: bool = Field(True, description="Run 'alembic upgrade head' at start-up.")

    # Batch screening (app/jobs)
    # 64: with 100 ms a response, 32 sites at once left a quarter of two cores idle (40.7 ->
    # 52.6 sites/s, the same memory); 128 gained nothing more. Each site is its own host, so
    # per-host politeness is unchanged.
    batch_concurrency: int = Field(128, ge=1, description="Sites checked at once by one worker.")
    batch_processes: int = Field(
        0,
        ge=0,
        description="Processes that analyse the sites of 'redflags batch': 0 one per usable core, "
        "1 a thread of the fetching process.",
    )
    batch_lease: float = Field(
        60.0, gt=0, description="Seconds a claimed site stays reserved without a heartbeat."
    )
    batch_max_attempts: int = Field(
        3, ge=1, description="Claims of one site before it is given up (a site that crashes us)."
    )
    batch_max_sites: int = Field(10_000, ge=1, description="Sites one API batch may hold.")
    batch_max_upload_bytes: int = Field(
        2_000_000, gt=0, description="Largest request body POST /api/v1/batches accepts."
    )
    batch_worker: bool = Field(True, description="Run a batch worker inside the service process.")
    check_worker: bool = Field(
        True, description="Run the checks people ask for (202 and poll) inside the service."
    )
    check_concurrency: int = Field(4, ge=1, description="Checks one service process runs at once.")

    # HTTP API
    analysis_processes: int = Field(
        0,
        ge=0,
        description="Processes each service process forks to read and analyse pages (the "
        "API, checks, batches): 0 or 1 none, pages are analysed on threads of the service "
        "process; 2 or more use that many cores. Forked once the engine is loaded, they share "
        "it.",
    )
    analyze_threads: int = Field(
        1,
        ge=1,
        description="Pages /api/v1/analyze reads at once in one service process; the others "
        "wait their turn, first come first served (one process runs one thread of Python at a "
        "time: more threads only share it, and every page finishes later).",
    )
    max_analyze_bytes: int = Field(
        2_000_000, gt=0, description="Largest request body /api/v1/analyze accepts (413 above)."
    )
    max_request_bytes: int = Field(
        64_000, gt=0, description="Largest request body of the other endpoints."
    )
    check_timeout: float = Field(
        120.0, gt=0, description="Seconds for a whole check (crawl, analysis, registry) → 504."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Web origins allowed to call the API from a browser."
    )
    extension_origin_regex: str = Field(
        r"(chrome|moz|safari-web|ms-browser)-extension://[A-Za-z0-9._-]+",
        description="Browser-extension origins allowed on /api/v1/analyze only.",
    )
    # Requests per client per minute; a client is its API key, else its IP address.
    rate_limit_window: float = Field(60.0, gt=0, description="Seconds of the sliding window.")
    check_limit_anonymous: int = Field(6, ge=1)
    check_limit_keyed: int = Field(60, ge=1)
    analyze_limit_anonymous: int = Field(60, ge=1)
    analyze_limit_keyed: int = Field(600, ge=1)

    # Server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, description="uvicorn worker processes.")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma-separated; '*' for any). Empty: none, so a "
        "client cannot choose the address its rate limit is counted under.",
    )

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in force (the default SQLite file unless one is configured)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'redflags.db'}"

    @field_validator("allowed_networks", "cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        # Environment variables arrive as "127.0.0.0/8,::1/128" rather than JSON.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
