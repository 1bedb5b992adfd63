"""Property-based requests generated from the OpenAPI document: no response may be a 5xx,
and every response must match what the document promises.

Runs in-process through schemathesis' ASGI transport. The fetcher is swapped for one that
answers every address with a canned clinic page, so generated URLs never reach the network
and a check always has something to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.api.deps import get_fetcher
from app.engine.analyzer import Engine
from app.fetch import ByteBudget, FetchedPage, Fetcher, normalize_url
from app.service.factory import create_app
from tests.fetch.servers import closed_port, fast_settings

EXAMPLES = 25  # per operation: the whole run stays well under a minute
CANNED = (
    b"<html><head><title>Clinic</title></head><body><p>Our stem cell therapy cures "
    b"arthritis. Treatment costs $9,500.</p></body></html>"
)


class CannedFetcher(Fetcher):
    """Refuses what the real fetcher refuses up front, and 'reads' the canned page otherwise."""

    async def fetch(
        self, url: str, *, budget: ByteBudget | None = None, any_type: bool = False
    ) -> FetchedPage:
        requested = normalize_url(url)
        return FetchedPage(
            requested_url=requested,
            final_url=requested,
            status=200,
            fetched_at=datetime.now(UTC),
            content_type="text/html",
            charset="utf-8",
            body=CANNED,
            sha256=hashlib.sha256(CANNED).hexdigest(),
            truncated=False,
            redirects=(),
            error=None,
            skipped=None,
        )


@pytest.fixture(scope="module")
def api_schema(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("schemathesis")
    app_settings = fast_settings(
        data_dir=data,
        registry_base_url=f"http://127.0.0.1:{closed_port()}",
        registry_max_tries=1,
        check_limit_anonymous=100_000,
        analyze_limit_anonymous=100_000,
    )
    app = create_app(app_settings, engine=engine)
    fetcher = CannedFetcher(app_settings)
    app.dependency_overrides[get_fetcher] = lambda: fetcher
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_api_conforms_to_its_openapi(api_schema: Any) -> None:
    # One hypothesis run per operation through `as_strategy` (the lazy pytest loader,
    # `schemathesis.pytest.from_fixture`, does not work with pytest 9).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate()

        conforms()
