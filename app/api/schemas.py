"""Request and response bodies of the JSON API (the public contract, with OpenAPI examples)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.api.errors import ErrorInfo
from app.engine.types import Polarity, Report
from app.storage import ReportSummary, StoredReport

MAX_URL_CHARS = 2_000
MAX_PAGES_ASKED = 50  # the server reads at most settings.max_pages whatever is asked
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: str) -> str:
    """JSON may carry half of a UTF-16 pair ("\\ud800"), which no UTF-8 text can hold: it
    becomes U+FFFD, as a browser shows it, so any string a JSON parser accepts can be read."""
    try:
        value.encode("utf-8")  # fails on a lone surrogate only, in a fifth of the search's time
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", value)
    return value


# A string from a request body, safe to encode as UTF-8.
Text = Annotated[str, AfterValidator(_without_lone_surrogates)]


class CheckRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"url": "https://clinic.example", "max_pages": 5}]},
    )

    url: Text = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="The clinic's address; `clinic.example` is read as `http://clinic.example/`.",
    )
    max_pages: int | None = Field(
        None,
        ge=1,
        le=MAX_PAGES_ASKED,
        description="Pages to read, the entry page included (capped by the server, default 8).",
    )
    explain: bool = Field(False, description="Include how each decision was made.")


class ReportLinks(BaseModel):
    api: str = Field(description="This report in JSON.", examples=["/api/v1/checks/abc"])
    page: str = Field(description="The permalink a person reads.", examples=["/r/abc"])
    history: str | None = Field(None, description="The site's earlier reports, if any.")


class ReportResponse(StoredReport):
    """A stored report and where to find it again."""

    links: ReportLinks

    @classmethod
    def of(cls, stored: StoredReport) -> ReportResponse:
        history = f"/api/v1/sites/{stored.site_key}/reports" if stored.site_key else None
        links = ReportLinks(
            api=f"/api/v1/checks/{stored.id}", page=f"/r/{stored.id}", history=history
        )
        return cls(**stored.model_dump(), links=links)


class CheckLinks(BaseModel):
    api: str = Field(description="Poll this: the check's state, then its report.")
    page: str = Field(description="The same for people: a page that refreshes until the report.")


class CheckStatus(BaseModel):
    """A check that is not finished yet (or failed): poll ``links.api`` until it is a report."""

    id: str = Field(description="The check's id, which its report will have too.")
    state: Literal["queued", "running", "failed"]
    phase: str | None = Field(
        None, description="What it is doing: 'read page 2 of 5', 'analysing 5 pages'..."
    )
    url: str
    created_at: datetime
    updated_at: datetime
    error: ErrorInfo | None = Field(None, description="Why a failed check stopped.")
    links: CheckLinks


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://clinic.example/treatments",
                    "html": "<html><body><h1>Stem cells cure arthritis</h1></body></html>",
                }
            ]
        },
    )

    url: Text | None = Field(
        None,
        max_length=MAX_URL_CHARS,
        description="Where the content came from; used to resolve links and as the source. "
        "It is never fetched.",
    )
    html: Text | None = Field(None, description="The page's HTML (send this or `text`).")
    text: Text | None = Field(None, description="The page's plain text (send this or `html`).")
    explain: bool = Field(False, description="Include how each decision was made.")
    store: bool = Field(
        False,
        description="Keep the report and the submitted content under a permalink. Off by "
        "default: what a person is reading stays private.",
    )

    @model_validator(mode="after")
    def _one_content(self) -> AnalyzeRequest:
        if (self.html is None) == (self.text is None):
            raise ValueError("send exactly one of `html` or `text`")
        return self


class AnalyzeResponse(BaseModel):
    id: str | None = Field(description="The stored report's id; null unless `store` was true.")
    stored: bool
    links: ReportLinks | None = None
    report: Report


class RuleInfo(BaseModel):
    id: str
    title: str
    category: str
    polarity: Polarity
    weight: float
    status: Literal["experimental", "test", "stable"]
    explanation: str
    advice: str
    references: list[str]


class RuleCatalogue(BaseModel):
    rules_version: str
    rules: list[RuleInfo]


class SiteHistory(BaseModel):
    site_key: str
    reports: list[ReportSummary] = Field(description="Newest first.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    rules_version: str
    database: Literal["ok"] = "ok"
