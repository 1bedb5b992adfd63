"""The batch's progress bar on stderr: sites done of total, sites per second, ETA, and the
sites that were unreadable or could not be checked, in the words of the closing line.

tqdm draws it: it is already installed with spaCy, it redraws at most a few times a second,
and it computes the rate and ETA from this run only when a resumed batch starts part-way.
When stderr is not a terminal (a log file, CI) it writes a plain line every ``LOG_EVERY``
seconds instead of redrawing.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from app.jobs.queue import Progress
from app.jobs.worker import Outcome

LOG_EVERY = 10.0  # seconds between lines when stderr is not a terminal


class ProgressBar:
    """Pass as the worker's ``on_outcome``; ``close()`` when the run ends."""

    def __init__(self, start: Progress, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self.unreadable = start.unreadable
        self.failed = start.counts["error"]
        terminal = stream.isatty()
        self._bar = tqdm(
            total=start.total,
            initial=start.finished,
            unit="site",
            file=stream,
            dynamic_ncols=True,
            mininterval=0.2 if terminal else LOG_EVERY,
            smoothing=0.05,  # the rate over the last minute or so, not the last site
            ascii=not terminal,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} sites [{elapsed}<{remaining}, "
            "{rate_fmt}{postfix}]",
        )
        self._bar.set_postfix_str(self._postfix(), refresh=False)

    def __call__(self, outcome: Outcome) -> None:
        if not outcome.recorded:
            return
        if outcome.state == "error":
            self.failed += 1
        elif outcome.verdict == "unreadable":
            self.unreadable += 1
        self._bar.set_postfix_str(self._postfix(), refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def _postfix(self) -> str:
        return f"{self.unreadable} unreadable, {self.failed} could not be checked"
