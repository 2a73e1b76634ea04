"""Incremental builds: what changes re-render a leaflet, and what must not."""

from __future__ import annotations

from collections.abc import Callable
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


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often this process reads an article, templates a leaflet, lays out a pack front."""
    import sys

    from handouts.render import Renderer

    calls = {"read": 0, "template": 0, "front": 0}
    module = sys.modules["handouts.build"]

    def count(name: str, function: Callable[..., object]) -> Callable[..., object]:
        def counting(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return function(*args, **kwargs)

        return counting

    monkeypatch.setattr(module, "read_article", count("read", module.read_article))
    monkeypatch.setattr(Renderer, "render", count("template", Renderer.render))
    monkeypatch.setattr(module._Build, "_render_front", count("front", module._Build._render_front))
    return calls


def test_unchanged_articles_are_neither_read_nor_templated_again(
    three: Path, write: WriteFile, counted: dict[str, int]
) -> None:
    first = {r.slug: r.warnings for r in build(load_config(three), jobs=1).leaflets}
    assert counted == {"read": 0, "template": 0, "front": 0}
    write("beta.md", "---\ntitle: Beta\ndate: 2025-01-01\n---\nAbout beta, changed.\n")
    again = build(load_config(three), jobs=1)
    assert counted == {"read": 1, "template": 1, "front": 0}  # pack ab's pages did not move
    assert rendered(again) == {"beta"}
    assert packs_made(again) == {"ab"}
    # What was not read again is reported just as before, warnings included.
    assert {r.slug: r.warnings for r in again.leaflets if r.slug != "beta"} == {
        s: w for s, w in first.items() if s != "beta"
    }
    assert any("no author" in f.message for f in first["alpha"])


def test_a_pack_front_is_laid_out_again_when_a_page_number_moves(
    three: Path, write: WriteFile, counted: dict[str, int]
) -> None:
    import random

    from pypdf import PdfReader

    rng = random.Random(4)
    words = "wash rest walk drink sleep call nurse ward wound dressing tablet pain".split()
    # Varied paragraphs: near-repeats would be dropped as duplicates.
    long = "\n\n".join(" ".join(rng.choice(words) for _ in range(60)) for _ in range(40))
    write("alpha.md", f"---\ntitle: Alpha\ndate: 2025-01-01\n---\n{long}\n")
    again = build(load_config(three), jobs=1)
    assert counted["front"] == 1
    [ab] = [p for p in again.packs if p.name == "ab"]
    assert ab.starts[1] > 3  # beta starts later: alpha has more pages now
    contents = PdfReader(three / "output" / "ab.pdf").pages[1].extract_text()
    assert f"Beta {ab.starts[1]}" in contents.replace("\n", " ")


def test_changed_config_or_template_reads_and_templates_again(
    three: Path, counted: dict[str, int]
) -> None:
    from handouts import init_workspace

    config = three / "handouts.yaml"
    config.write_text(config.read_text().replace("Ward 9", "Ward 10"))
    assert rendered(build(load_config(three), jobs=1)) == {"alpha", "beta", "gamma"}
    assert counted["read"] == counted["template"] == 3
    # Any change in the template folders means templating again (the articles
    # themselves are not read again).
    init_workspace(three / "copy")
    (three / "copy" / "templates").rename(three / "templates")
    build(load_config(three), jobs=1)
    assert counted["template"] == 6
    assert counted["read"] == 3


def test_strict_refuses_a_kept_pdf_that_had_rendering_warnings(
    three: Path, write: WriteFile
) -> None:
    write("beta.md", "---\ntitle: Beta\ndate: 2025-01-01\n---\n![Chart](missing.png)\n")
    made = build(load_config(three), jobs=1)
    assert any("missing.png" in str(f) for r in made.leaflets for f in r.warnings)
    strict = build(load_config(three), jobs=1, strict=True)
    [beta] = [r for r in strict.leaflets if r.slug == "beta"]
    assert beta.error is not None
    assert "--strict" in beta.error
    assert not strict.ok


def test_warnings_name_files_from_where_the_build_runs(
    three: Path, monkeypatch: pytest.MonkeyPatch, counted: dict[str, int]
) -> None:
    monkeypatch.chdir(three.parent)
    again = build(load_config(three), jobs=1)
    assert rendered(again) == set()
    assert counted["read"] == 0  # kept articles do not depend on the current folder
    assert {f.path for r in again.leaflets for f in r.warnings} == {
        f"ws/content/{n}.md" for n in ("alpha", "beta", "gamma")
    }


def test_a_library_script_needs_no_main_guard(three: Path, tmp_path: Path) -> None:
    """Workers are not started by re-running the caller's script (multiprocessing's spawn)."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "from handouts import build, load_config\n"
        f"result = build(load_config({str(three)!r}, output={str(tmp_path / 'out')!r}), jobs=2)\n"
        "print(result.summary())\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Built 3 leaflets (3 rendered, 0 reused) and 2 packs" in done.stdout
