"""``redflags train``: the command around ``app.training.train``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.settings import Settings

_ROOT = Path(__file__).resolve().parent.parent.parent


def add_train_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = commands.add_parser(
        "train", help="fit the page-type model and score thresholds on the labelled pages"
    )
    command.add_argument("--labels", type=Path, default=_ROOT / "corpus" / "real" / "labels.jsonl")
    command.add_argument("--cache", type=Path, default=_ROOT / "corpus" / "real" / "cache")
    command.add_argument(
        "--dev",
        type=Path,
        default=_ROOT.parent / "shared" / "corpus" / "dev",
        help="the fictional dev corpus, trained on too when present",
    )
    command.add_argument("--out", type=Path, default=None, help="default: the settings' folder")
    command.add_argument(
        "--allow-missing",
        action="store_true",
        help="train even when more than 5%% of the labelled real pages have no cached text",
    )
    command.set_defaults(handler=_train)


def _train(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: scikit-learn costs most of a second, and only this command needs it.
    from app.engine.nlp import load_or_build
    from app.engine.rulebook import load_rules
    from app.training.pages import entry_text
    from app.training.train import CacheIncompleteError, Paths, train

    ruleset = load_rules(settings.rules_dir)
    nlp = load_or_build(ruleset, settings.models_dir)
    paths = Paths(args.labels, args.cache, args.dev, args.out or settings.pagetype_dir)
    try:
        meta = train(paths, ruleset, nlp, entry_text, allow_missing=args.allow_missing)
    except CacheIncompleteError as exc:
        print(f"redflags train: {exc}", file=sys.stderr)
        return 2
    print(f"saved the page-type model to {paths.out} ({meta['pages']} pages)")
    return 0
