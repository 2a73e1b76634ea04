"""Render in worker processes that can be timed out, capped and replaced.

Part of the build stage. Every WeasyPrint call of a build runs here, never in
the main process, so that one pathological article cannot stall or sink a
batch of hundreds:

* each worker has an address-space limit (``RLIMIT_AS``), so a runaway
  layout raises MemoryError in the worker instead of exhausting the machine;
* each task has a time limit: an alarm inside the worker interrupts layout,
  and if the worker does not answer soon after, the parent kills it;
* a worker that failed that way, or that has rendered its share of
  leaflets (WeasyPrint's memory grows over long runs), is replaced by a fresh
  one. ``concurrent.futures`` can do neither: it cannot kill a hung worker,
  and its ``max_tasks_per_child`` deadlocks on Python 3.11 (CPython gh-115634).

Workers are new interpreters (never forked: WeasyPrint and its C libraries
are not fork-safe) that import only this module and WeasyPrint. Unlike
``multiprocessing``'s spawn, they do not re-run the caller's main script, so
a worker of the ``handouts`` command does not load the readers and templates,
and a library caller's script needs no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .errors import HandoutsError
from .files import write_atomic

logger = logging.getLogger(__name__)

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
"""Where a worker imports handouts from: the same copy as the parent's."""

GRACE_SECONDS = 10.0
"""How long past its time limit a worker may take to answer before it is killed."""


@dataclass(frozen=True)
class Limits:
    """What one leaflet may cost."""

    seconds: float = 60.0
    """Wall-clock time to lay out and write one document."""
    memory_mb: int = 2048
    """Address space of a worker process; 0 for no limit."""
    pages: int = 60
    """More pages than this is not a leaflet: refused with an error."""
    tasks_per_worker: int = 200


@dataclass(frozen=True)
class Task:
    """One document for a worker to render."""

    key: str
    html: str
    base_url: str
    stylesheets: tuple[Path, ...]
    pdf_variant: str | None
    target: Path | None = None
    """Write the PDF here (atomically); ``None`` returns its bytes instead."""
    strict: bool = False
    """Do not write the PDF if rendering produced any warning."""


@dataclass(frozen=True)
class Outcome:
    """What a worker made of a task."""

    key: str
    pages: int = 0
    warnings: tuple[str, ...] = ()
    missing_glyphs: str = ""
    dependencies: tuple[str, ...] = ()
    sha256: str | None = None
    data: bytes | None = None
    error: str | None = None
    """One line saying why nothing was written; ``""`` for "held back by --strict"."""


class _TimeUp(BaseException):
    """Raised by the alarm. A BaseException, so WeasyPrint's ``except Exception`` lets it pass."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TimeUp


_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); import handouts.workers as w; w.serve()"
"""A worker's whole command line program. Run with ``-P``: the current folder
(perhaps a workspace of untrusted files) is not put on the import path."""


def serve() -> None:
    """Entry point of a worker process: its end of the socket is file descriptor ``argv[2]``."""
    connection = Connection(int(sys.argv[2]))
    try:
        roots, limits = connection.recv()
    except EOFError:
        return
    _worker(connection, roots, limits)


def _worker(connection: Connection, roots: Sequence[Path], limits: Limits) -> None:
    """A worker process: load WeasyPrint once, then render tasks until the socket closes."""
    import resource

    if limits.memory_mb:
        size = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    signal.signal(signal.SIGALRM, _on_alarm)
    import PIL.Image

    from .pdf import MAX_IMAGE_PIXELS, PdfRenderer

    # The fetcher refuses big images by their header; this is Pillow's own backstop.
    PIL.Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)

    renderer = PdfRenderer(roots)
    while True:
        try:
            task = connection.recv()
        except EOFError:  # the parent closed the socket (or died): stop
            return
        outcome, healthy = _render(renderer, task, limits)
        connection.send(outcome)
        if not healthy:
            # After an interrupted layout or a MemoryError, WeasyPrint's caches
            # may be half-built: this worker stops and a fresh one takes over.
            return


def _render(renderer: Any, task: Task, limits: Limits) -> tuple[Outcome, bool]:
    signal.setitimer(signal.ITIMER_REAL, limits.seconds)
    try:
        made = renderer.render(
            task.html,
            base_url=task.base_url,
            stylesheets=task.stylesheets,
            pdf_variant=task.pdf_variant,
        )
    except _TimeUp:
        return Outcome(task.key, error=_too_slow(limits)), False
    except MemoryError:
        return Outcome(task.key, error=_too_big(limits)), False
    except HandoutsError as err:
        return Outcome(task.key, error=err.message), True
    except Exception as err:  # one document's bug must not stop the batch
        logger.debug("unexpected failure rendering %s", task.key, exc_info=True)
        message = f"unexpected error ({type(err).__name__}: {err}); please report it"
        return Outcome(task.key, error=message), False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if made.pages > limits.pages:
        return Outcome(
            task.key,
            error=(
                f"laid out as {made.pages} pages, more than a leaflet should be (the limit "
                f"is {limits.pages}; raise leaflets.max_pages in handouts.yaml if it is right)"
            ),
        ), True
    sha = hashlib.sha256(made.data).hexdigest()
    base = Outcome(task.key, made.pages, made.warnings, made.missing_glyphs, made.dependencies, sha)
    if task.strict and (made.warnings or made.missing_glyphs):
        return replace(base, error=""), True
    if task.target is None:
        return replace(base, data=made.data), True
    try:
        write_atomic(task.target, made.data)
    except OSError as err:
        return replace(base, error=f"cannot write '{task.target}': {err.strerror}"), True
    return base, True


def _too_slow(limits: Limits) -> str:
    return (
        f"took longer than {limits.seconds:g} s to lay out, so it was stopped (raise "
        "leaflets.render_timeout in handouts.yaml if the article really is that long)"
    )


def _too_big(limits: Limits) -> str:
    return (
        f"needed more than {limits.memory_mb} MB of memory to lay out, so it was stopped "
        "(raise leaflets.memory_limit_mb in handouts.yaml if the article really is that big)"
    )


@dataclass
class _Slot:
    process: Any
    connection: Connection
    task: Task | None = None
    deadline: float = 0.0
    done: int = 0
    retiring: bool = False


@dataclass
class Workers:
    """A pool of rendering processes, started when first needed."""

    roots: Sequence[Path]
    jobs: int
    limits: Limits = field(default_factory=Limits)
    _slots: list[_Slot] = field(default_factory=list)

    def _start(self) -> _Slot:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOT, _PACKAGE_PARENT, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # Its own process group: Ctrl-C in the terminal is the parent's to
                # handle (it stops the workers); a worker never sees it mid-import.
                start_new_session=True,
            )
            connection = Connection(ours.detach())
        # The worker holds the only other end now, so its exit reads as EOF here.
        connection.send((list(self.roots), self.limits))
        slot = _Slot(process, connection)
        self._slots.append(slot)
        return slot

    def _retire(self, slot: _Slot) -> None:
        # Killed, not asked to finish: a worker holds nothing unsaved between
        # tasks (each PDF is written before its outcome is sent), and tearing
        # down WeasyPrint's objects on a normal exit takes a tenth of a second.
        slot.process.kill()
        slot.process.wait()
        slot.connection.close()
        self._slots.remove(slot)

    def warm(self, count: int) -> None:
        """Start up to ``count`` workers now, so their start-up overlaps other work."""
        while len(self._slots) < min(count, self.jobs):
            self._start()

    def run(
        self, tasks: Iterable[Task], stop: Callable[[Outcome], bool] | None = None
    ) -> Iterator[Outcome]:
        """Render ``tasks``; yield each outcome as it comes, in completion order.

        If ``stop`` returns true for an outcome, no further task is started
        (``--fail-fast``); the ones under way are finished.
        """
        pending = iter(tasks)
        exhausted = False
        while True:
            if not exhausted:
                exhausted = self._dispatch(pending)
            busy = [s for s in self._slots if s.task is not None]
            if not busy:
                break
            soonest = min(s.deadline for s in busy)
            # A worker that dies closes its end of the socket: that wakes this too.
            ready = wait([s.connection for s in busy], timeout=max(0.0, soonest - time.monotonic()))
            for slot in busy:
                outcome = self._collect(slot, ready)
                if outcome is not None:
                    yield outcome
                    if stop is not None and stop(outcome):
                        exhausted = True  # start nothing more

    def _dispatch(self, pending: Iterator[Task]) -> bool:
        """Give tasks to idle workers; True once ``pending`` has run out."""
        for slot in list(self._slots):
            if slot.task is None and slot.done >= self.limits.tasks_per_worker:
                self._retire(slot)
        while True:
            idle = next((s for s in self._slots if s.task is None), None)
            if idle is None and len(self._slots) >= self.jobs:
                return False
            task = next(pending, None)
            if task is None:
                return True
            if idle is None:
                idle = self._start()
            idle.connection.send(task)
            idle.task = task
            idle.deadline = time.monotonic() + self.limits.seconds + GRACE_SECONDS

    def _collect(self, slot: _Slot, ready: list[Any]) -> Outcome | None:
        task = slot.task
        if task is None:
            return None
        if slot.connection in ready:
            try:
                outcome: Outcome = slot.connection.recv()
            except (EOFError, OSError):
                outcome = Outcome(task.key, error=self._death(slot))
                self._retire(slot)
                return outcome
            slot.task = None
            slot.done += 1
            if not _healthy(outcome):
                self._retire(slot)  # it has stopped itself; collect it
            return outcome
        if time.monotonic() >= slot.deadline:
            self._retire(slot)
            return Outcome(task.key, error=_too_slow(self.limits))
        return None

    def _death(self, slot: _Slot) -> str:
        try:
            code: int | None = slot.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            return f"the renderer was stopped by signal {-code} (out of memory?)"
        return f"the renderer stopped unexpectedly (exit code {code})"

    def close(self) -> None:
        for slot in list(self._slots):
            self._retire(slot)


def _healthy(outcome: Outcome) -> bool:
    """Outcomes after which the worker stops itself (see ``_worker``)."""
    error = outcome.error or ""
    return not (error.startswith(("took longer", "needed more than", "unexpected error")))
