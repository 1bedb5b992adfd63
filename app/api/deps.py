"""Request dependencies, as ``Annotated`` aliases so route signatures stay short and typed.

Everything heavy is built once in ``app.service.factory``'s lifespan and kept on
``app.state``; these aliases hand it to routes (the web pages in ``app.web`` use them too):

- ``SettingsDep``  the ``Settings`` the app was created with
- ``EngineDep``    the loaded analysis ``Engine`` (CPU-bound: call it from ``def`` routes or
                   ``anyio.to_thread``)
- ``FetcherDep``   the shared ``Fetcher`` (SSRF-guarded HTTP client)
- ``RegistryDep``  the shared ClinicalTrials.gov ``RegistryClient``
- ``StoreDep``     the ``ReportStore`` (blocking SQLAlchemy: same rule as the engine)
- ``AnalystDep``   where pages are read and analysed (worker processes, or threads that
                   take turns)
- ``KeyStoreDep``  the ``ApiKeyStore``
- ``ApiKeyDep``    the caller's ``ApiKey`` from ``X-API-Key``, or ``None`` when none was sent
                   (an unknown or revoked key is answered with 401)
- ``check_limit`` / ``analyze_limit``: rate-limit dependencies for route ``dependencies=[...]``

Tests swap any of these with ``app.dependency_overrides[get_xxx] = ...``.

The getters only read ``app.state``, so they are ``async def``: FastAPI runs a plain ``def``
dependency in its thread pool, and six hand-overs to a thread and back a request were a quarter of
the service process's time under load (py-spy, 32 clients on ``/api/v1/analyze``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader

from app.api.errors import ApiError
from app.api.ratelimit import SlidingWindowLimiter
from app.engine.analyzer import Engine
from app.fetch import Fetcher
from app.jobs.checks import CheckJobs, CheckRunner
from app.jobs.service import BackgroundWorker
from app.jobs.store import SqlJobQueue
from app.pipeline.site_analysis import Analyst
from app.settings import Settings
from app.storage import ApiKey, ApiKeyStore, ReportStore
from app.verify import RegistryClient


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_fetcher(request: Request) -> Fetcher:
    return request.app.state.fetcher


async def get_registry(request: Request) -> RegistryClient:
    return request.app.state.registry


async def get_store(request: Request) -> ReportStore:
    return request.app.state.store


async def get_key_store(request: Request) -> ApiKeyStore:
    return request.app.state.key_store


async def get_limiter(request: Request) -> SlidingWindowLimiter:
    return request.app.state.limiter


async def get_analyst(request: Request) -> Analyst:
    return request.app.state.analyst


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
FetcherDep = Annotated[Fetcher, Depends(get_fetcher)]
RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
StoreDep = Annotated[ReportStore, Depends(get_store)]
KeyStoreDep = Annotated[ApiKeyStore, Depends(get_key_store)]
LimiterDep = Annotated[SlidingWindowLimiter, Depends(get_limiter)]
AnalystDep = Annotated[Analyst, Depends(get_analyst)]


async def get_batch_queue(request: Request) -> SqlJobQueue:
    return request.app.state.batch_queue  # type: ignore[no-any-return]


async def get_batch_worker(request: Request) -> BackgroundWorker | None:
    """The service's own batch worker, or None when it runs without one."""
    return request.app.state.batch_worker  # type: ignore[no-any-return]


async def get_check_jobs(request: Request) -> CheckJobs:
    return request.app.state.check_jobs  # type: ignore[no-any-return]


async def get_check_runner(request: Request) -> CheckRunner | None:
    """The service's own check runner, or None when checks are run elsewhere."""
    return request.app.state.check_runner  # type: ignore[no-any-return]


CheckJobsDep = Annotated[CheckJobs, Depends(get_check_jobs)]
CheckRunnerDep = Annotated[CheckRunner | None, Depends(get_check_runner)]
BatchQueueDep = Annotated[SqlJobQueue, Depends(get_batch_queue)]
BatchWorkerDep = Annotated[BackgroundWorker | None, Depends(get_batch_worker)]

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Optional. A key raises the rate limits; create one with `redflags keys create`.",
)


async def get_api_key(
    request: Request,
    keys: KeyStoreDep,
    _documented: Annotated[str | None, Depends(_api_key_header)] = None,
) -> ApiKey | None:
    # The header is read here rather than from APIKeyHeader, which takes an empty one for none.
    plaintext = request.headers.get("x-api-key")
    if plaintext is None:
        return None
    # The look-up is a blocking database call: off the event loop.
    key = await anyio.to_thread.run_sync(keys.verify, plaintext) if plaintext else None
    if key is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "This API key is not valid or has been revoked. Send no key to use the "
            "anonymous limits, or ask the operator for a new key.",
        )
    return key


ApiKeyDep = Annotated[ApiKey | None, Depends(get_api_key)]


class RateLimit:
    """Per-client limit on one group of endpoints; sets the ``X-RateLimit-*`` headers."""

    def __init__(self, bucket: Literal["check", "analyze"]) -> None:
        self.bucket = bucket

    async def __call__(
        self,
        request: Request,
        response: Response,
        settings: SettingsDep,
        limiter: LimiterDep,
        key: ApiKeyDep,
    ) -> None:
        if key is not None:
            client = f"key:{key.id}"
            limit = getattr(settings, f"{self.bucket}_limit_keyed")
        else:
            # Behind a reverse proxy, run uvicorn with --proxy-headers so this is the real client.
            client = f"ip:{request.client.host if request.client else 'unknown'}"
            limit = getattr(settings, f"{self.bucket}_limit_anonymous")
        decision = limiter.hit(f"{self.bucket}:{client}", limit)
        headers = decision.headers()
        # Error responses are built afresh by the exception handlers, which copy these.
        request.state.rate_limit_headers = headers
        if not decision.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests: at most {limit} per {settings.rate_limit_window:g} seconds. "
                f"Please wait {headers['Retry-After']} seconds and try again"
                + ("." if key else ", or use an API key for a higher limit."),
                headers=headers,
            )
        response.headers.update(headers)


check_limit = RateLimit("check")
analyze_limit = RateLimit("analyze")
