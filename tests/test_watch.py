"""handouts watch: what it notices, what it rebuilds, and how it reports and stops."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from handouts import load_config
from handouts.build import BuildResult, Session
from handouts.errors import HandoutsError
from handouts.watch import changed, snapshot, watch

from .conftest import WriteFile

ARTICLE = "---\ntitle: {title}\ndate: 2025-01-01\n---\n{body}\n"


def test_snapshot_sees_the_workspace_but_not_output_or_hidden_files(
    workspace: Path, write: WriteFile
) -> None:
    write("a.md", ARTICLE.format(title="A", body="Text."))
    (workspace / "output").mkdir()
    (workspace / "output" / "a.pdf").write_bytes(b"%PDF")
    (workspace / ".git").mkdir()
    (workspace / ".git" / "index").write_text("x")
    (workspace / "content" / ".a.md.swp").write_text("x")
    before = snapshot(workspace, workspace / "output")
    assert set(before) == {workspace / "handouts.yaml", workspace / "content" / "a.md"}

    write("a.md", ARTICLE.format(title="A", body="Longer text now."))
    write("b.md", ARTICLE.format(title="B", body="Text."))
    (workspace / "handouts.yaml").unlink()
    after = snapshot(workspace, workspace / "output")
    assert changed(before, after) == [
        workspace / "content" / "a.md",
        workspace / "content" / "b.md",
        workspace / "handouts.yaml",
    ]


def test_watch_rebuilds_what_changed_and_survives_a_broken_config(
    workspace: Path, write: WriteFile
) -> None:
    write("a.md", ARTICLE.format(title="A", body="About a."))
    write("b.md", ARTICLE.format(title="B", body="About b."))
    results: queue.Queue[BuildResult | HandoutsError] = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        with Session(1) as session:
            watch(
                lambda: load_config(workspace), workspace, session=session,
                on_build=results.put, on_error=results.put, interval=0.05,
                should_stop=stop.is_set,
            )  # fmt: skip

    thread = threading.Thread(target=run)
    thread.start()
    try:
        first = results.get(timeout=60)
        assert isinstance(first, BuildResult)
        assert first.ok
        assert {r.slug for r in first.leaflets if not r.reused} == {"a", "b"}

        write("b.md", ARTICLE.format(title="B", body="About b, edited."))
        second = results.get(timeout=60)
        assert isinstance(second, BuildResult)
        assert {r.slug for r in second.leaflets if not r.reused} == {"b"}
        assert [p.name for p in second.packs if p.ok and not p.reused] == ["leaflet-pack"]

        config = workspace / "handouts.yaml"
        good = config.read_text()
        config.write_text(good.replace("paper: A4", "paper: B7"))
        error = results.get(timeout=60)
        assert isinstance(error, HandoutsError)
        assert "paper" in error.format_message()

        config.write_text(good)
        third = results.get(timeout=60)
        assert isinstance(third, BuildResult)
        assert third.ok
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_watch_command_reports_changes_and_stops_cleanly_on_ctrl_c(
    workspace: Path, write: WriteFile
) -> None:
    write("a.md", ARTICLE.format(title="A", body="About a."))
    write("b.md", ARTICLE.format(title="B", body="About b."))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "handouts", "watch", "-j", "1", "--interval", "0.05"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in watcher.stdout or ()]).start()

    def until(prefix: str) -> str:
        deadline = time.monotonic() + 60
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith(prefix):
                return line

    try:
        assert "(2 rendered, 0 reused)" in until("Built")
        until("Watching")
        write("a.md", ARTICLE.format(title="A", body="About a, edited."))
        assert until("Changed:").strip() == "Changed: content/a.md"
        assert "(1 rendered, 1 reused) and 1 pack" in until("Built")
    finally:
        watcher.send_signal(signal.SIGINT)
        _, stderr = watcher.communicate(timeout=60)
    assert until("Stopped watching.")
    assert watcher.returncode == 0
    assert "Traceback" not in stderr
    # The first build reports every article's warnings; later ones only what was made again.
    assert stderr.count("content/a.md: no author") == 2
    assert stderr.count("content/b.md: no author") == 1
