"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.api.deps import StoreDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz", response_model=Readiness, responses=error_responses(503), summary="Readiness"
)
def readyz(request: Request, store: StoreDep) -> Readiness:
    """Ready when the analysis pipeline is loaded and the database answers."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ApiError(503, "not_ready", "The analysis pipeline is still loading.")
    if not store.ping():
        raise ApiError(503, "database_unavailable", "The database does not answer.")
    return Readiness(rules_version=engine.ruleset.version)
