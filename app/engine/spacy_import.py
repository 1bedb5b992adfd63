"""spaCy imported without its command line (what explosion/spaCy#12962 does upstream).

spaCy 3's package imports its whole command line only to re-export ``spacy.info``
(``spacy/__init__.py``: ``from .cli.info import info``): typer, weasel, requests, httpx's own
command line and jinja2, about 0.13 s of a cold ``redflags analyze`` of 1.1 s, for a function
the engine never calls. While spaCy is first imported, ``spacy.cli.info`` is a stand-in whose
``info`` loads the real one when called; the stand-in is then removed, so a later
``import spacy.cli`` gets the real command line.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_MODULE = "spacy.cli.info"


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``, its module imported on first use."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def import_spacy_lazily() -> None:
    """Import spaCy now, its command line left for whoever asks for it."""
    if "spacy" in sys.modules:
        return
    stand_in = types.ModuleType(_MODULE)
    stand_in.info = _info  # type: ignore[attr-defined]
    sys.modules[_MODULE] = stand_in
    try:
        import spacy  # noqa: F401
    finally:
        if sys.modules.get(_MODULE) is stand_in:
            del sys.modules[_MODULE]
