"""The progress bar counts problems in the words of the batch's closing line (issue 11: the bar
said "1 error" where the closing line said "0 could not be checked")."""

from __future__ import annotations

import io

from app.jobs.progress import ProgressBar
from app.jobs.queue import Claim, Progress
from app.jobs.worker import Outcome

STATES = ("pending", "running", "done", "error", "skipped")


def _outcome(state: str, verdict: str | None) -> Outcome:
    claim = Claim(1, "b", 1, "https://a.example/", "https://a.example/", None, "w")
    return Outcome(claim, state, verdict, recorded=True)


def test_unreadable_and_failed_sites_are_counted_apart() -> None:
    counts = dict.fromkeys(STATES, 0) | {"pending": 3, "done": 1, "error": 1}
    start = Progress("b", "running", 5, counts, unreadable=1)  # a resumed batch
    stream = io.StringIO()
    bar = ProgressBar(start, stream)
    for outcome in (
        _outcome("done", "unreadable"),
        _outcome("error", None),
        _outcome("done", "high_risk"),
    ):
        bar(outcome)
    bar.close()
    last = stream.getvalue().strip().splitlines()[-1]
    assert "5/5 sites" in last
    assert "2 unreadable, 2 could not be checked" in last
    assert "error" not in last
