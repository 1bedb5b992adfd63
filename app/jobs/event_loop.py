"""The event loop a batch's fetching runs on: uvloop's where it is installed.

uvloop comes with ``uvicorn[standard]`` (Linux and macOS). A batch's fetching process is mostly
event-loop and HTTP-client work; on uvloop it spent about a tenth less CPU a site (7.5-8.5 ms
against 8.5-9 ms, two 300-site benchmark runs each), and the loop behaves as asyncio's does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when it can be imported."""
    try:
        import uvloop
    except ImportError:  # Windows, or a slim install: asyncio's own loop works the same
        return asyncio.run(main)
    return uvloop.run(main)
