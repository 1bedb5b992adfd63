"""What the command line prints: never a control character from a URL, a page or a file.

An address or a quoted sentence can carry terminal escape sequences ("\\x1b]0;…\\x07" retitles
the window, "\\x1b[2J" clears it, a carriage return overwrites the line, a right-to-left
override reverses what follows). Everything the CLI prints passes through ``PrintableStream``,
which shows such characters as visible escapes instead of sending them to the terminal.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda m: ascii(m.group(0))[1:-1], text)


class PrintableStream(io.TextIOBase):
    """A text stream that writes ``printable(text)`` to ``unfiltered``.

    The progress bar alone writes to ``unfiltered``: its carriage returns are its own.
    """

    def __init__(self, unfiltered: TextIO) -> None:
        self.unfiltered = unfiltered

    def write(self, text: str) -> int:
        self.unfiltered.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.unfiltered.flush()

    def isatty(self) -> bool:
        return self.unfiltered.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.unfiltered.encoding
