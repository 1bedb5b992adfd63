"""Site analysis in worker processes: batch screening and the API on every core.

One Python process runs one thread of Python at a time, so a batch whose analysis ran on worker
threads used one core however many the machine had. Here the event loop (fetching, the API's
requests) stays in the main process and the CPU-bound calls go to worker processes.

The workers are forked from the main process once it has loaded the engine, before it starts
any thread (``start``): they share its loaded pipelines copy-on-write instead of loading their
own (about 1.7 s and 300 MB each), and no lock held by another thread is copied into them. A
worker that dies (killed, out of memory) fails the call it was running with
``AnalysisProcessDied`` and is forked again, this time from a process with threads, which only
risks a lock held by a thread that the workers never use.

Each worker has a Unix socket of its own, which the event loop reads and writes as an asyncio
transport: a call is one pickled message out and one back. (``ProcessPoolExecutor`` did the same
through a feeder thread and a manager thread, whose hand-overs took a third of the API's front
process.) Each worker holds up to two calls, the one it runs and the next, so that it starts the
next as soon as it is done instead of waiting for this process to send it one (left waiting,
the workers of the API benchmark idled 6% of the time); further calls wait here, first come,
first served, for the least busy worker. The price: a call held behind a long one waits for it
even if another worker frees up first.

The transports belong to one event loop, the pool's home: the first loop that calls it, or the
one that calls ``attach``. A call from another loop (the service's batch worker runs its own in
another thread) is made on the home loop and its answer handed back.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import sys
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from app.engine.analyzer import Engine
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.pipeline.site_analysis import AnalysisJob, SiteAnalysis, analyse_site

log = logging.getLogger("redflags.pipeline")
P = ParamSpec("P")
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_FORK = multiprocessing.get_context("fork")
_LENGTH = struct.Struct("!Q")  # every message: its length, then the pickle
_HELD = 2  # calls a worker holds: the one it runs and the next

_engine: Engine | None = None  # in a worker process: the engine inherited from the parent


class AnalysisProcessDied(RuntimeError):
    """The worker process running a call died (killed, out of memory) before answering."""


class RemoteTraceback(Exception):
    """Set as ``__cause__`` of an exception raised in a worker: its traceback there."""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


@dataclass(eq=False)
class _Call:
    message: bytes
    answer: asyncio.Future[bytes]


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    channel: socket.socket  # the pool's end; the transport reads and writes a duplicate
    transport: asyncio.Transport | None = None  # on the home loop, once attached
    held: deque[_Call] = field(default_factory=deque)  # sent, in the order they were sent


class AnalysisPool:
    """An ``Analyst`` on worker processes: ``with AnalysisPool(engine, processes) as pool:``."""

    def __init__(self, engine: Engine, processes: int) -> None:
        if processes < 1:
            raise ValueError("an analysis pool needs at least one process")
        self.engine = engine
        self.processes = processes
        self._workers: list[_Worker] = []
        self._waiting: deque[_Call] = deque()
        self._home: asyncio.AbstractEventLoop | None = None
        self._attaching: asyncio.Future[None] | None = None
        self._connecting: set[asyncio.Task[None]] = set()  # the loop holds tasks weakly

    def start(self) -> AnalysisPool:
        """Fork the workers now; call before any thread starts (see the module's note)."""
        # Objects that exist now are never scanned by the garbage collector again, so the
        # workers do not write to (and copy) every page of the inherited engine when it runs.
        gc.freeze()
        self._workers = []
        for _ in range(self.processes):
            self._workers.append(self._fork())
        return self

    def worker_pids(self) -> list[int]:
        """The worker processes now running (for logs, and for tests that kill one)."""
        return [w.process.pid for w in list(self._workers) if w.process.pid is not None]

    def close(self) -> None:
        """Stop the workers; calls not yet answered fail with ``RuntimeError``."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.process.terminate()
        calls = [*self._waiting, *(call for worker in workers for call in worker.held)]
        self._waiting.clear()
        for worker in workers:
            worker.process.join()
            worker.channel.close()
            self._abort(worker)
        home, self._home = self._home, None
        if calls and home is not None and not home.is_closed():
            home.call_soon_threadsafe(_fail, calls, RuntimeError("the analysis pool was closed"))

    def __enter__(self) -> AnalysisPool:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def attach(self) -> None:
        """Make the running loop the pool's home (see the module's note)."""
        loop = asyncio.get_running_loop()
        if self._home is not loop:
            if not self._workers:
                raise RuntimeError("the analysis pool is not started")
            old, self._home = self._home, loop
            self._attaching = loop.create_future()
            try:
                for n, worker in enumerate(self._workers):
                    self._abort(worker, old)
                    if worker.held:  # it owes answers to a loop that has gone
                        worker = self._workers[n] = self._refork(worker)
                    await self._connect(worker)
            finally:
                self._attaching.set_result(None)
                self._attaching = None
        elif self._attaching is not None:
            await asyncio.shield(self._attaching)

    async def extract(self, data: bytes, source: str, **options: Any) -> ExtractedPage:
        return await self._call(partial(extract_document, data, source, **options))

    async def analyse(self, job: AnalysisJob) -> SiteAnalysis:
        return await self.run(analyse_site, job)

    async def run(self, work: Callable[Concatenate[Engine, P], T], *args: P.args) -> T:
        return await self._call(partial(_with_engine, work, *args))

    async def _call(self, call: Callable[[], T]) -> T:
        message = pickle.dumps(call, pickle.HIGHEST_PROTOCOL)
        loop = asyncio.get_running_loop()
        home = self._home
        if home is None or home.is_closed():
            await self.attach()
            home = loop
        if home is loop:
            reply = await self._call_at_home(message)
        else:
            made = asyncio.run_coroutine_threadsafe(self._call_at_home(message), home)
            reply = await asyncio.wrap_future(made)
        done, value, remote = pickle.loads(reply)
        if done:
            return value  # type: ignore[no-any-return]
        value.__cause__ = RemoteTraceback(remote)
        raise value

    async def _call_at_home(self, message: bytes) -> bytes:
        if self._attaching is not None:
            await asyncio.shield(self._attaching)
        if not self._workers:
            raise RuntimeError("the analysis pool is closed")
        call = _Call(message, asyncio.get_running_loop().create_future())
        self._waiting.append(call)
        self._dispatch()
        # Cancelled, the call is skipped if it is still waiting, or its answer dropped.
        return await call.answer

    def _dispatch(self) -> None:
        """Send waiting calls to the least busy workers that can take one."""
        while self._waiting:
            ready = [w for w in self._workers if w.transport is not None and len(w.held) < _HELD]
            if not ready:
                return
            worker = min(ready, key=lambda w: len(w.held))
            if not worker.process.is_alive():  # ended before this loop read the end of its socket
                self._lost(worker)
                continue
            call = self._waiting.popleft()
            if call.answer.done():  # its caller gave up while it waited
                continue
            worker.held.append(call)
            assert worker.transport is not None
            worker.transport.write(_LENGTH.pack(len(call.message)) + call.message)

    def _answered(self, worker: _Worker, reply: bytes) -> None:
        call = worker.held.popleft()
        if not call.answer.done():
            call.answer.set_result(reply)
        self._dispatch()

    def _lost(self, worker: _Worker) -> None:
        """``worker``'s process has ended: fail the call it ran, send the one it held again."""
        if worker not in self._workers:  # closed, or already replaced
            return
        if worker.held:
            running = worker.held.popleft()
            if not running.answer.done():
                log.error("an analysis process died in the middle of a call")
                running.answer.set_exception(
                    AnalysisProcessDied(
                        "the analysis process died (killed, or out of memory) before it answered"
                    )
                )
            self._waiting.extendleft(reversed(worker.held))
            worker.held.clear()
        else:
            log.error("an analysis process died while idle")
        self._abort(worker)
        fresh = self._workers[self._workers.index(worker)] = self._refork(worker)
        home = self._home
        if home is not None and home.is_running():  # else ``attach`` connects it
            task = home.create_task(self._connect(fresh))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    def _refork(self, worker: _Worker) -> _Worker:
        """A new worker in place of ``worker``, whose process is stopped if it still runs."""
        worker.process.kill()
        worker.process.join()
        worker.channel.close()
        return self._fork()

    def _abort(self, worker: _Worker, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Drop ``worker``'s transport on ``loop`` (the home loop by default), if it has one."""
        transport, worker.transport = worker.transport, None
        loop = loop or self._home
        if transport is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(transport.abort)

    async def _connect(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        twin = socket.socket(fileno=os.dup(worker.channel.fileno()))
        transport, _ = await loop.create_unix_connection(lambda: _Replies(self, worker), sock=twin)
        if worker in self._workers:
            worker.transport = transport
            self._dispatch()
        else:  # closed or replaced meanwhile
            transport.abort()

    def _fork(self) -> _Worker:
        ours, theirs = socket.socketpair()
        process = _FORK.Process(
            target=_serve,
            args=(self.engine, theirs, os.getpid()),
            name="redflags-analysis",
            daemon=True,
        )
        process.start()
        theirs.close()
        ours.setblocking(False)
        return _Worker(process, ours)


def _fail(calls: list[_Call], error: Exception) -> None:
    for call in calls:
        if not call.answer.done():
            call.answer.set_exception(error)


class _Replies(asyncio.Protocol):
    """Reads a worker's answers off its socket, one message per call, in the order sent."""

    def __init__(self, pool: AnalysisPool, worker: _Worker) -> None:
        self.pool, self.worker = pool, worker
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _LENGTH.size:
            end = _LENGTH.size + _LENGTH.unpack_from(self.buffer)[0]
            if len(self.buffer) < end:
                return
            reply = bytes(self.buffer[_LENGTH.size : end])
            del self.buffer[:end]
            self.pool._answered(self.worker, reply)

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool._lost(self.worker)


def _serve(engine: Engine, channel: socket.socket, parent: int) -> None:
    """A worker process: answer calls, one at a time, until its channel ends (the pool stops
    its workers with a signal; their parent's death kills them)."""
    _adopt(engine, parent)
    channel.setblocking(True)
    reader = channel.makefile("rb")
    while len(header := reader.read(_LENGTH.size)) == _LENGTH.size:
        size = _LENGTH.unpack(header)[0]
        if len(message := reader.read(size)) < size:
            return
        outcome: tuple[bool, Any, str | None]
        try:
            outcome = (True, pickle.loads(message)(), None)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            outcome = (False, exc, traceback.format_exc())
        try:
            reply = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer or exception that cannot cross processes
            failure = RuntimeError(f"the analysis process could not send its answer: {exc!r}")
            reply = pickle.dumps((False, failure, traceback.format_exc()))
        try:
            channel.sendall(_LENGTH.pack(len(reply)) + reply)
        except OSError:  # the pool has gone
            return


def _adopt(engine: Engine, parent: int) -> None:
    global _engine  # noqa: PLW0603 - a worker process's one engine, set once as it starts
    _engine = engine
    # A worker outliving its parent (kill -9) would keep the batch's lock file, which it
    # inherited, and block the run that resumes the batch: die with the parent.
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)
    # Ctrl-C reaches the whole process group; the main process decides how the batch stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's handler (uvicorn's, in the service) would only set a flag in this copy, and
    # any signal would be written to the parent's event loop through its wake-up descriptor.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)


def _with_engine(work: Callable[..., T], *args: Any) -> T:
    assert _engine is not None, "runs only in a worker started by AnalysisPool"
    return work(_engine, *args)
