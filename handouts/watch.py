"""Build again whenever an article, a template or the config changes: ``handouts watch``.

Part of the build stage. While a nurse educator edits an article, each save
should show the new leaflet at once. A new ``handouts build`` process spends
about half a second loading WeasyPrint before it lays out a page; a watch
keeps its workers (and the articles it has read) from one build to the next,
so a save costs only the changed leaflet and the packs that hold it.

Changes are found by polling file times and sizes: a few milliseconds for a
library of hundreds of articles, and no dependency on the operating system's
file-notification service (which network drives often lack).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .build import BuildResult, Session
from .config import Config
from .errors import HandoutsError

POLL_SECONDS = 0.2
SETTLE_SECONDS = 0.05
"""After a change, wait this long for the rest of a save (editors write in steps)."""

Snapshot = dict[Path, tuple[int, int]]


def snapshot(workspace: Path, output: Path) -> Snapshot:
    """Modification time and size of every file in the workspace a build could read.

    The output folder is left out (builds write there), and so are hidden
    files and folders (``.git``, editors' swap files).
    """
    skip = output.resolve()
    found: Snapshot = {}
    folders = [workspace]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # removed while we looked: the next poll sees it gone
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if Path(entry.path).resolve() != skip:
                        folders.append(Path(entry.path))
                elif entry.is_file():
                    info = entry.stat()
                    found[Path(entry.path)] = (info.st_mtime_ns, info.st_size)
            except OSError:
                continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def watch(
    load: Callable[[], Config],
    workspace: Path,
    *,
    session: Session,
    on_build: Callable[[BuildResult], None],
    on_error: Callable[[HandoutsError], None],
    on_change: Callable[[Iterable[Path]], None] = lambda paths: None,
    interval: float = POLL_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
    **options: Any,
) -> None:
    """Build now, then again after each change, until ``should_stop()`` returns true.

    ``load`` reads the config afresh for every build, so a change to
    handouts.yaml takes effect; a config error is reported through
    ``on_error`` and the next change is awaited. ``options`` are those of
    :meth:`Session.build`.
    """
    output = workspace / "output"

    def build_once() -> None:
        nonlocal output
        try:
            config = load()
            output = config.output
            on_build(session.build(config, **options))
            if not should_stop():
                # Ready for the next save: a renderer already loaded, not loading.
                session.warm(config)
        except HandoutsError as err:
            on_error(err)

    try:
        output = load().output
    except HandoutsError:
        pass  # reported by the first build
    # Each snapshot is taken before the build that reads those files, so a save
    # made while building is seen by the next poll.
    current = snapshot(workspace, output)
    build_once()
    while not should_stop():
        time.sleep(interval)
        latest = snapshot(workspace, output)
        if latest == current:
            continue
        while not should_stop():  # until the save is complete
            time.sleep(SETTLE_SECONDS)
            settled = snapshot(workspace, output)
            if settled == latest:
                break
            latest = settled
        if should_stop():
            return
        on_change(changed(current, latest))
        current = latest
        build_once()
