"""All tunable limits and paths, read once from ``REDFLAGS_*`` environment variables."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The project ships its rule packs and built pipeline beside the package (a source checkout or the
# Docker image's /app); both paths are settings so an installed copy can point elsewhere.
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed settings; every field can be set as ``REDFLAGS_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="REDFLAGS_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    # Engine
    rules_dir: Path = _PROJECT_ROOT / "rules"
    models_dir: Path = _PROJECT_ROOT / "models" / "pipeline"
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

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        # Environment variables arrive as "127.0.0.0/8,::1/128" rather than JSON.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
