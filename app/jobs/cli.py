"""``redflags batch``: argument parsing only; ``app.jobs.runner`` does the work."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.settings import Settings

EPILOG = """\
The input is a CSV file with a 'url' column (its other columns are copied to the output) or
a text file with one address a line. Progress is kept in OUTPUT.jobs.sqlite: after Ctrl-C or
a crash, run the same command again to carry on where it stopped.
"""


def add_batch_command(commands: Any) -> None:
    """Register ``batch`` on the main parser's ``add_subparsers()`` object."""
    batch = commands.add_parser(
        "batch",
        help="check a list of sites and write a results table",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("input", type=Path, help="sites.csv (with a 'url' column) or sites.txt")
    batch.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="results file: .csv, .jsonl, .json or .xlsx",
    )
    batch.add_argument("--html", type=Path, help="also write a summary page for people")
    batch.add_argument(
        "--concurrency", type=int, default=None, help="sites checked at once (default 128)"
    )
    batch.add_argument("--max-pages", type=int, default=None, help="pages read per site (8)")
    batch.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes analysing the pages (default: one per core; 1: no worker processes)",
    )
    batch.add_argument(
        "--report-base-url",
        default=None,
        help="where the job database is served, for report links (default: redflags serve's)",
    )
    batch.set_defaults(handler=_batch)


def _batch(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the batch machinery (SQLAlchemy, Alembic, openpyxl) is for this command only.
    from app.jobs.runner import BatchError, BatchOptions, run_cli

    for name in ("concurrency", "max_pages", "processes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"redflags: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    opts = BatchOptions(
        input=args.input,
        output=args.output,
        html=args.html,
        concurrency=args.concurrency or settings.batch_concurrency,
        max_pages=args.max_pages,
        processes=args.processes or settings.batch_processes,
        report_base_url=args.report_base_url or f"http://{settings.host}:{settings.port}",
    )
    try:
        return run_cli(opts, settings)
    except BatchError as exc:
        print(f"redflags: {exc}", file=sys.stderr)
        return 2
