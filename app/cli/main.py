"""The ``redflags`` command: a thin shell over the engine (argument parsing and output only)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from app import __version__
from app.cli.render import render_text
from app.cli.service import add_service_commands
from app.cli.terminal import PrintableStream
from app.engine.analyzer import Engine
from app.engine.language import LANGUAGE_FOLDER, language_detector
from app.engine.nlp import load_or_build
from app.engine.pagetype import ModelMissingError
from app.engine.rulebook import SCHEMA_FILE, RuleError, load_rules, pack_schema
from app.engine.ruletests import run_examples
from app.engine.types import Report
from app.extract.files import InputError, at_address, load_site
from app.jobs.cli import add_batch_command
from app.settings import Settings, get_settings
from app.training.cli import add_train_command

log = logging.getLogger("redflags")

# Commands that have nothing left to save once their answer is printed.
QUICK_EXIT = frozenset({"analyze", "check"})
BROKEN_PIPE = 128 + 13  # the status of a writer killed by SIGPIPE, as shells report it


def run() -> NoReturn:
    """The console command (``redflags``, ``python -m app.cli``).

    A reader that stops early (``| head``) ends the command quietly with the status a killed
    pipe writer has (128 + SIGPIPE), not a traceback. A read-only command ends the process as
    soon as its answer is out: Python's orderly teardown frees the pipelines, the page-type
    model and their caches object by object, 0.25 s of a 1.5 s ``redflags analyze``
    (measured), and such a command holds no file, database or child process that needs it."""
    argv = sys.argv[1:]
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would try to flush stdout again at exit and complain: point it at devnull.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = BROKEN_PIPE
    if not argv or argv[0] not in QUICK_EXIT:
        sys.exit(code)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(stdout), PrintableStream(stderr)
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        return int(args.handler(args, settings))
    except RuleError as exc:
        print(f"redflags: the rules cannot be used:\n{exc}", file=sys.stderr)
        return 2
    except ModelMissingError as exc:
        print(f"redflags: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redflags",
        description="Warning signs of unregulated stem-cell clinics, with the evidence.",
    )
    parser.add_argument("--version", action="version", version=f"redflags {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="analyse local HTML or text files (a folder is one site)"
    )
    analyze.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, or - for stdin")
    analyze.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    analyze.add_argument("--explain", action="store_true", help="show how each decision was made")
    analyze.add_argument(
        "--url",
        help="the web address a saved page came from (one PATH; a folder's other pages are "
        "taken as its neighbours): the page-type model reads the address's words too",
    )
    analyze.set_defaults(handler=_analyze)

    check = commands.add_parser("check", help="fetch a clinic's site and report on it")
    check.add_argument("url", help="the site's address, e.g. clinic.example or https://...")
    check.add_argument("--max-pages", type=int, default=None, help="pages to read (default 8)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--explain", action="store_true", help="show how each decision was made")
    check.set_defaults(handler=_check)

    rules = commands.add_parser("rules", help="list, test or build the rule packs")
    rule_commands = rules.add_subparsers(required=True, metavar="ACTION")
    listing = rule_commands.add_parser("list", help="the rule catalogue")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=_rules_list)
    testing = rule_commands.add_parser("test", help="run every rule's examples")
    testing.add_argument("--rule", help="only this rule id")
    testing.set_defaults(handler=_rules_test)
    build = rule_commands.add_parser("build", help="assemble and save the spaCy pipeline")
    build.set_defaults(handler=_rules_build)
    schema = rule_commands.add_parser(
        "schema", help=f"write rules/{SCHEMA_FILE}, the JSON Schema editors check packs with"
    )
    schema.set_defaults(handler=_rules_schema)
    add_service_commands(commands)
    add_batch_command(commands)
    add_train_command(commands)
    return parser


def _analyze(args: argparse.Namespace, settings: Settings) -> int:
    if args.url is not None and (
        len(args.paths) > 1 or not args.url.lower().startswith(("http://", "https://"))
    ):
        print("redflags: --url takes one http(s) address, for one PATH", file=sys.stderr)
        return 2
    engine = Engine.from_settings(settings, lazy=True)
    failed = False
    for path in args.paths:
        try:
            pages = load_site(
                path, max_bytes=settings.max_document_bytes, min_words=settings.min_words
            )
            if args.url is not None:
                pages, path = at_address(pages, args.url), args.url
        except InputError as exc:
            failed = True
            if args.format == "jsonl":
                print(json.dumps({"source": path, "error": str(exc)}))
            else:
                print(f"redflags: {exc}", file=sys.stderr)
            continue
        try:
            report = engine.analyze(pages, path, explain=args.explain)
        except Exception as exc:  # one broken page must not stop a list of hundreds
            log.exception("analysis of %s failed", path)
            failed = True
            message = f"internal error while analysing this file ({type(exc).__name__})"
            print(json.dumps({"source": path, "error": message}))
            continue
        if args.format == "text":
            print(render_text(report, explain=args.explain))
            print()
        elif args.format == "json":
            print(report.model_dump_json(indent=2, exclude_none=True))
        else:
            print(report.model_dump_json(exclude_none=True))
    return 1 if failed else 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: fetching (aiohttp, httpx for the registry) is for this command only.
    from app.fetch import Fetcher, UrlRejected
    from app.pipeline.check import run_check
    from app.verify import RegistryClient

    engine = Engine.from_settings(settings)

    async def run() -> Report:
        async with Fetcher(settings) as fetcher, RegistryClient(settings) as registry:
            result = await run_check(
                args.url,
                settings,
                engine,
                fetcher,
                registry,
                max_pages=args.max_pages,
                explain=args.explain,
            )
            return result.report

    try:
        report = asyncio.run(run())
    except UrlRejected as exc:
        print(f"redflags: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(report.model_dump_json(indent=2, exclude_none=True))
    else:
        print(render_text(report, explain=args.explain))
    return 1 if report.verdict == "unreadable" else 0


def _rules_list(args: argparse.Namespace, settings: Settings) -> int:
    ruleset = load_rules(settings.rules_dir)
    if args.format == "json":
        rows = [
            rule.model_dump(
                include={
                    "id",
                    "title",
                    "category",
                    "polarity",
                    "weight",
                    "status",
                    "explanation",
                    "advice",
                    "references",
                }
            )
            for rule in ruleset.rules
        ]
        print(json.dumps({"rules_version": ruleset.version, "rules": rows}, indent=2))
        return 0
    for name, pack in ruleset.packs.items():
        print(f"{name}  ({pack.family})")
        for rule in pack.rules:
            print(
                f"  {rule.id:<28} {rule.polarity:<10} {rule.category:<24} {rule.weight:>5g}  "
                f"{rule.title}"
            )
    print(f"{len(ruleset.rules)} rules, version {ruleset.version}")
    return 0


def _rules_test(args: argparse.Namespace, settings: Settings) -> int:
    engine = Engine.from_settings(settings)
    results = run_examples(engine, only=args.rule)
    failures = [r for r in results if not r.passed]
    for result in failures:
        expectation = "should match" if result.expected else "should not match"
        fired = ", ".join(sorted(result.fired)) or "nothing"
        print(
            f"FAIL {result.rule_id}: {expectation} on a page that "
            f"{result.page_kind.replace('_', ' ')}: {result.text!r} (fired: {fired})"
        )
    print(f"{len(results) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def _rules_schema(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.rules_dir / SCHEMA_FILE
    path.write_text(pack_schema(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _rules_build(args: argparse.Namespace, settings: Settings) -> int:
    ruleset = load_rules(settings.rules_dir)
    load_or_build(ruleset, settings.models_dir)
    language_detector(settings.models_dir / LANGUAGE_FOLDER)  # unpacked once, here
    print(f"pipeline for rules {ruleset.version} is in {settings.models_dir}")
    return 0
