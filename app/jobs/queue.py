"""What a worker needs from a job queue, whatever keeps the jobs.

``SqlJobQueue`` (``app.jobs.store``) is the implementation for SQLite and PostgreSQL; one over
Redis, RabbitMQ or Celery can implement the same protocol and the worker will not notice.
The methods are blocking: the worker calls them from its own database thread.

The contract that makes "every site done exactly once" hold:

- ``claim`` hands out an item to one worker only, with a lease that ``renew`` extends;
- ``complete`` and ``fail`` record the outcome only if the caller still holds the lease, and
  ``complete`` stores the report in the same transaction that marks the item done;
- an item whose lease ran out (its worker died) goes back to pending and is checked alone
  from then on; a crash of the process is not the site's failure, so only an item that brought
  the worker down ``max_attempts`` times while checked alone is given up with an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.pipeline.check import SiteCheck
from app.storage.batch_tables import ItemState


@dataclass(frozen=True)
class NewItem:
    """One input row: its line, the address as written, and the other columns."""

    position: int
    url: str
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """An item reserved for one worker until ``complete``, ``fail`` or ``release``."""

    item_id: int
    batch_id: str
    position: int
    url: str  # as given, stored as the report's input URL
    normalized_url: str
    max_pages: int | None
    worker: str
    solo: bool = False  # checked with nothing beside it: it was in a crash before


@dataclass(frozen=True)
class Progress:
    """Counts per state; they always add up to ``total``."""

    batch_id: str
    status: str
    total: int
    counts: Mapping[ItemState, int]
    unreadable: int  # done, but the site could not be read (counted in "done")

    @property
    def finished(self) -> int:
        return self.counts["done"] + self.counts["error"] + self.counts["skipped"]

    @property
    def problems(self) -> int:
        """Sites without a usable report: errors plus unreadable sites."""
        return self.counts["error"] + self.unreadable


class JobQueue(Protocol):
    def enqueue(
        self,
        items: Sequence[NewItem],
        *,
        options: Mapping[str, object],
        owner_key_id: str | None = None,
        input_sha256: str | None = None,
    ) -> str:
        """Create a batch of ``items`` and return its id."""
        ...

    def claim(
        self, worker: str, limit: int, *, batch_id: str | None = None, idle: bool = False
    ) -> list[Claim]:
        """Reserve up to ``limit`` pending items (of one batch, if given) for ``worker``. An
        ``idle`` worker (nothing running) may instead get one item that was in a crash, to
        check alone (``Claim.solo``); it claims nothing more until that one is finished."""
        ...

    def renew(self, worker: str, item_ids: Sequence[int]) -> None:
        """Extend the leases ``worker`` holds on ``item_ids``."""
        ...

    def complete(self, claim: Claim, check: SiteCheck) -> bool:
        """Store the report and mark the item done; False when the lease was lost."""
        ...

    def fail(self, claim: Claim, error: str) -> bool:
        """Mark the item as an error; False when the lease was lost."""
        ...

    def release(self, claims: Sequence[Claim]) -> None:
        """Give unfinished items back (a clean stop); the attempt does not count."""
        ...

    def cancel(self, batch_id: str) -> Progress | None:
        """Skip the batch's pending items (running ones finish); None if there is no batch."""
        ...

    def progress(self, batch_id: str) -> Progress | None:
        """The batch's counts, or None if there is no such batch."""
        ...

    def has_work(self, batch_id: str) -> bool:
        """Whether the batch still has pending or running items."""
        ...

    def requeue_dead_workers(self, is_dead: Callable[[str], bool]) -> int:
        """Give back at once the items of workers ``is_dead`` names (as a crash); how many."""
        ...
