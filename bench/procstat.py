"""What /proc says of the benchmarks' processes: CPU time, and a process with its children."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int, exclude: int | None = None) -> list[int]:
    """``pid`` and its descendants, leaving out ``exclude`` and its own."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            if int(child) != exclude:
                out += process_tree(int(child), exclude)
    return out
