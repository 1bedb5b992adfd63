"""The SQL job queue on SQLite and PostgreSQL: claims are exclusive, leases expire, outcomes are
written once, cancel skips what has not started, and the counts always add up."""

from __future__ import annotations

import threading
import time

import sqlalchemy
from sqlalchemy import func, select, update

from app.engine.types import Report
from app.jobs.queue import NewItem, Progress
from app.jobs.store import SqlJobQueue
from app.pipeline.check import SiteCheck
from app.storage import upgrade
from app.storage.batch_tables import BatchItemRow
from app.storage.models import ReportRow


def _report(url: str, verdict: str = "high_risk") -> SiteCheck:
    report = Report(
        source=url,
        score=80,
        verdict=verdict,  # type: ignore[arg-type]
        applicability=None,
        summary="",
        rules_version="test",
        engine_version="test",
    )
    return SiteCheck(report, [])


def _queue(db: sqlalchemy.Engine, **kwargs: float) -> SqlJobQueue:
    upgrade(db)
    return SqlJobQueue(db, **kwargs)  # type: ignore[arg-type]


def _items(n: int) -> list[NewItem]:
    return [NewItem(i, f"https://clinic-{i}.example/") for i in range(1, n + 1)]


def _adds_up(progress: Progress | None) -> Progress:
    assert progress is not None
    assert sum(progress.counts.values()) == progress.total
    return progress


def _reports(db: sqlalchemy.Engine) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def test_enqueue_triages_rows_and_counts_add_up(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    items = [
        *_items(3),
        NewItem(4, "not a url"),
        NewItem(5, "HTTPS://Clinic-1.example"),
        NewItem(6, ""),
    ]
    batch_id = queue.enqueue(items, options={})
    progress = _adds_up(queue.progress(batch_id))
    assert progress.counts == {"pending": 3, "running": 0, "done": 0, "error": 2, "skipped": 1}
    assert progress.status == "queued"
    rows = {r["position"]: r for r in queue.items(batch_id)}
    assert rows[5]["error"].startswith("duplicate of line 1")
    assert rows[6]["error"] == "this row has no address"


def test_concurrent_claims_never_share_an_item(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    batch_id = queue.enqueue(_items(120), options={})
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while batch := queue.claim(name, 7, batch_id=batch_id):
            with lock:
                claimed.extend(c.item_id for c in batch)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 120
    assert len(set(claimed)) == 120
    progress = _adds_up(queue.progress(batch_id))
    assert progress.counts["running"] == 120
    assert progress.status == "running"


def test_complete_writes_the_report_once_and_finishes_the_batch(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    batch_id = queue.enqueue(_items(2), options={"max_pages": 3})
    first, second = queue.claim("w1", 5)
    assert first.max_pages == 3
    assert queue.complete(first, _report(first.url))
    assert not queue.complete(first, _report(first.url))  # a second outcome is refused
    assert queue.fail(second, "boom")
    assert _reports(db) == 1
    progress = _adds_up(queue.progress(batch_id))
    assert (progress.status, progress.counts["done"], progress.counts["error"]) == ("done", 1, 1)
    done = next(r for r in queue.items(batch_id) if r["state"] == "done")
    assert done["report_id"] and done["verdict"] == "high_risk" and done["score"] == 80


def test_an_expired_lease_goes_back_to_pending_and_the_old_worker_cannot_finish(
    db: sqlalchemy.Engine,
) -> None:
    queue = _queue(db, lease=0.2)
    batch_id = queue.enqueue(_items(1), options={})
    (lost,) = queue.claim("crashed", 1)
    time.sleep(0.3)
    queue.requeue_expired()
    assert queue.claim("healthy", 1) == []  # it was in a crash: only an idle worker takes it
    (taken,) = queue.claim("healthy", 1, idle=True)
    assert taken.solo
    assert taken.item_id == lost.item_id
    assert not queue.complete(lost, _report(lost.url))  # rolled back: no report written
    assert _reports(db) == 0
    assert queue.complete(taken, _report(taken.url))
    assert _reports(db) == 1
    (row,) = queue.items(batch_id)
    assert (row["state"], row["attempts"], row["claimed_by"]) == ("done", 2, "healthy")


def test_renewed_leases_are_kept(db: sqlalchemy.Engine) -> None:
    queue = _queue(db, lease=0.4)
    queue.enqueue(_items(1), options={})
    (claim,) = queue.claim("w1", 1)
    for _ in range(3):
        time.sleep(0.2)
        queue.renew("w1", [claim.item_id])
        queue.requeue_expired()
    assert queue.complete(claim, _report(claim.url))


def test_a_site_that_keeps_killing_workers_is_given_up(db: sqlalchemy.Engine) -> None:
    queue = _queue(db, lease=0.05, max_attempts=2)
    batch_id = queue.enqueue(_items(1), options={})
    assert queue.claim("w", 1)  # the first crash: in company, not counted against the site
    time.sleep(0.1)
    queue.requeue_expired()
    for _ in range(2):  # then alone, twice: its own doing
        (claim,) = queue.claim("w", 1, idle=True)
        assert claim.solo
        time.sleep(0.1)
        queue.requeue_expired()
    assert queue.claim("w", 1, idle=True) == []
    (row,) = queue.items(batch_id)
    assert row["state"] == "error" and "stopped the batch worker 2 times" in row["error"]
    assert row["crashes"] == 3
    assert _adds_up(queue.progress(batch_id)).status == "done"


def test_resumed_batches_lose_no_sites(db: sqlalchemy.Engine) -> None:
    # Issue 9, item 3: each kill used to count as one of a site's three attempts, so after
    # three kills the sites in flight ended as errors. Crashes in company never give up a site.
    queue = _queue(db, max_attempts=3)
    batch_id = queue.enqueue(_items(4), options={})
    for _ in range(5):
        queue.claim("killed", 2)
        queue.requeue_running(batch_id)
    assert _adds_up(queue.progress(batch_id)).counts["pending"] == 4
    finished = 0
    while claims := queue.claim("healthy", 4, idle=True):
        for claim in claims:
            assert queue.complete(claim, _report(claim.url))
            finished += 1
    progress = _adds_up(queue.progress(batch_id))
    assert (progress.counts["done"], progress.status, finished) == (4, "done", 4)


def test_work_of_a_dead_worker_is_reclaimed_at_once(db: sqlalchemy.Engine) -> None:
    # Issue 9, item 6: a restarted service waited out the whole lease before taking back the
    # sites its former self had claimed.
    queue = _queue(db, lease=600)
    batch_id = queue.enqueue(_items(3), options={})
    queue.claim("gone", 2)
    queue.claim("alive", 1)
    assert queue.requeue_dead_workers(lambda name: name == "gone") == 2
    counts = _adds_up(queue.progress(batch_id)).counts
    assert (counts["pending"], counts["running"]) == (2, 1)


def test_release_gives_items_back_without_counting_the_attempt(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    batch_id = queue.enqueue(_items(2), options={})
    claims = queue.claim("w", 2)
    queue.release(claims)
    assert all(r["state"] == "pending" and r["attempts"] == 0 for r in queue.items(batch_id))


def test_cancel_skips_pending_items_and_running_ones_finish(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    batch_id = queue.enqueue(_items(5), options={})
    (running,) = queue.claim("w", 1)
    progress = _adds_up(queue.cancel(batch_id))
    assert progress.status == "cancelled"
    assert progress.counts == {"pending": 0, "running": 1, "done": 0, "error": 0, "skipped": 4}
    assert queue.claim("w", 5) == []
    assert queue.complete(running, _report(running.url, "unreadable"))
    progress = _adds_up(queue.progress(batch_id))
    assert (progress.status, progress.counts["done"], progress.unreadable) == ("cancelled", 1, 1)
    assert queue.cancel("no-such-batch") is None


def test_requeue_running_recovers_a_killed_cli_run(db: sqlalchemy.Engine) -> None:
    queue = _queue(db)
    batch_id = queue.enqueue(_items(3), options={})
    queue.claim("killed", 2)
    queue.requeue_running(batch_id)
    progress = _adds_up(queue.progress(batch_id))
    assert progress.counts["pending"] == 3
    with db.begin() as conn:  # killed while checked alone, the third time: given up
        conn.execute(update(BatchItemRow).values(crashes=3, solo=True, state="running"))
    queue.requeue_running(batch_id)
    assert _adds_up(queue.progress(batch_id)).counts["error"] == 3
