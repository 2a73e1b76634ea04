"""Incremental builds: what changes re-render a leaflet, and what must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts import build, load_config
from handouts.build import BuildResult

from .conftest import WriteFile


def rendered(result: BuildResult) -> set[str]:
    return {r.slug or "" for r in result.leaflets if r.ok and not r.reused}


def packs_made(result: BuildResult) -> set[str]:
    return {p.name for p in result.packs if p.ok and not p.reused}


@pytest.fixture
def three(workspace: Path, write: WriteFile) -> Path:
    for name in ("alpha", "beta", "gamma"):
        write(f"{name}.md", f"---\ntitle: {name.title()}\ndate: 2025-01-01\n---\nAbout {name}.\n")
    with (workspace / "handouts.yaml").open("a") as config:
        config.write(
            "packs:\n  ab: {title: A and B, articles: [alpha, beta]}\n"
            "  c: {title: C, articles: [gamma]}\n"
        )
    first = build(load_config(workspace), jobs=1)
    assert rendered(first) == {"alpha", "beta", "gamma"}
    assert packs_made(first) == {"ab", "c"}
    return workspace


def test_unchanged_rebuild_renders_nothing(three: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in (three / "output").glob("*.pdf")}
    again = build(load_config(three), jobs=1)
    assert rendered(again) == set()
    assert packs_made(again) == set()
    assert all(r.reused for r in again.leaflets)
    after = {p.name: p.stat().st_mtime_ns for p in (three / "output").glob("*.pdf")}
    assert after == before


def test_one_changed_article_rerenders_it_and_its_packs_only(three: Path, write: WriteFile) -> None:
    write("alpha.md", "---\ntitle: Alpha\ndate: 2025-01-01\n---\nAbout alpha, changed.\n")
    again = build(load_config(three), jobs=1)
    assert rendered(again) == {"alpha"}
    assert packs_made(again) == {"ab"}


def test_a_printed_config_value_rerenders_everything(three: Path) -> None:
    config = three / "handouts.yaml"
    config.write_text(config.read_text().replace("01632 960 123", "01632 960 999"))
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta", "gamma"}


def test_a_changed_review_period_changes_the_printed_date(three: Path) -> None:
    config = three / "handouts.yaml"
    config.write_text(config.read_text().replace("review_months: 36", "review_months: 24"))
    again = build(load_config(three), jobs=1)
    assert rendered(again) == {"alpha", "beta", "gamma"}
    from pypdf import PdfReader

    assert "Review due: 1 January 2027" in PdfReader(three / "output" / "alpha.pdf").pages[
        0
    ].extract_text().replace("\n", " ")


def test_template_stylesheet_change_rerenders(three: Path) -> None:
    from handouts import init_workspace

    init_workspace(three / "copy")
    (three / "templates").mkdir()
    (three / "copy" / "templates" / "leaflet").rename(three / "templates" / "leaflet")
    (three / "copy" / "templates" / "fonts").rename(three / "templates" / "fonts")
    # Other stylesheet files (even with the same text) resolve their fonts from
    # elsewhere, so the switch re-renders; after that, nothing until a change.
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta", "gamma"}
    assert rendered(build(load_config(three), jobs=1)) == set()
    css = three / "templates" / "leaflet" / "leaflet.css"
    css.write_text(css.read_text() + "\np { color: black; }\n")
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta", "gamma"}


def test_a_changed_image_rerenders_the_leaflet_using_it(three: Path, write: WriteFile) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
        '<rect width="40" height="{}"/></svg>'
    )
    write("diagram.svg", svg.format(20))
    write("beta.md", "---\ntitle: Beta\ndate: 2025-01-01\n---\n![A diagram](diagram.svg)\n")
    assert rendered(build(load_config(three), jobs=1)) == {"beta"}
    write("diagram.svg", svg.format(10))
    assert rendered(build(load_config(three), jobs=1)) == {"beta"}


def test_a_deleted_or_edited_pdf_is_rebuilt(three: Path) -> None:
    (three / "output" / "alpha.pdf").unlink()
    (three / "output" / "beta.pdf").write_bytes(b"%PDF-1.7 edited by hand")
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta"}


def test_a_new_build_date_remakes_packs_not_leaflets(
    three: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    again = build(load_config(three), jobs=1)
    assert rendered(again) == set()
    assert packs_made(again) == {"ab", "c"}  # the cover shows the date it was printed


def test_parallel_build_writes_the_same_bytes(three: Path, tmp_path: Path) -> None:
    serial = {p.name: p.read_bytes() for p in (three / "output").glob("*.pdf")}
    config = load_config(three, output=tmp_path / "parallel")
    result = build(config, jobs=2)
    assert rendered(result) == {"alpha", "beta", "gamma"}
    parallel = {p.name: p.read_bytes() for p in (tmp_path / "parallel").glob("*.pdf")}
    assert parallel == serial


def test_damaged_cache_means_a_full_build(three: Path) -> None:
    (three / "output" / ".handouts-cache.json").write_text("{not json")
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta", "gamma"}


def test_workers_are_recycled_without_hanging(
    workspace: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five leaflets, two workers, a fresh pool every two: must finish, not deadlock."""
    import signal
    import sys

    # handouts.build is also the name of the function; the module is in sys.modules.
    monkeypatch.setattr(sys.modules["handouts.build"], "WORKER_TASKS", 1)
    for number in range(5):
        write(f"a{number}.md", f"---\ntitle: A{number}\ndate: 2025-01-01\n---\nText {number}.\n")

    def too_slow(*_: object) -> None:
        raise TimeoutError("the parallel build hung")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(120)
    try:
        result = build(load_config(workspace), jobs=2, packs=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert rendered(result) == {f"a{n}" for n in range(5)}
