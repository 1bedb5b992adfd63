"""The batch API's request and response bodies (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"urls": ["https://clinic.example", "other-clinic.example"]}]
        },
    )

    urls: list[str] = Field(min_length=1, description="The sites' addresses, one per site.")
    max_pages: int | None = Field(
        None, ge=1, le=50, description="Pages read per site (capped by the server, default 8)."
    )


class BatchLinks(BaseModel):
    status: str = Field(examples=["/api/v1/batches/abc"])
    results: str = Field(description="Add ?format=csv, jsonl, json or xlsx.")
    summary: str = Field(description="A page for people: charts and a sortable table.")


class BatchStatus(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "cancelled"]
    created_at: datetime
    total: int
    pending: int
    running: int
    done: int = Field(description="Checked, with a report (unreadable sites included).")
    error: int = Field(description="Could not be checked (not a web address, not allowed…).")
    skipped: int = Field(description="Repeats of an earlier line, or cancelled.")
    unreadable: int = Field(description="Of the done sites, those that could not be read.")
    links: BatchLinks
