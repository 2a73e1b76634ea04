"""Bounded time and pages, safe output paths, fail-fast, reproducible output, fuzzed readers."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts import load_config
from handouts.config import Config
from handouts.errors import ContentError
from handouts.readers import read_article

from .conftest import CONFIG_YAML, WriteFile

GOOD = (
    "---\ntitle: Good\nauthor: Ward 9\nsource: Testshire Hospitals\n"
    "source_url: https://www.testshire.example/good\ndate: 2025-06-01\n---\nShort and good.\n"
)
LONG = "---\ntitle: Long\n---\n" + "\n\n".join(  # distinct, or they are dropped as repeats
    f"Paragraph {n}: " + " ".join(f"w{n}x{i}" for i in range(150)) + "." for n in range(600)
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli_(), list(args))


def cli_():  # type: ignore[no-untyped-def]
    from handouts.cli import cli

    return cli


def settings_yaml(workspace: Path, extra: str) -> None:
    text = CONFIG_YAML.replace("  review_months: 36\n", f"  review_months: 36\n{extra}")
    (workspace / "handouts.yaml").write_text(text)


def test_a_slow_article_is_stopped_and_the_batch_goes_on(workspace: Path, write: WriteFile) -> None:
    settings_yaml(workspace, "  render_timeout: 1\n  max_pages: 10000\n")
    write("good.md", GOOD)
    write("long.md", LONG)
    started = time.monotonic()
    result = run("build", "--no-pack", "-j", "1")
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    assert (
        "error: content/long.md: took longer than 1 s to lay out, so it was stopped (raise "
        "leaflets.render_timeout in handouts.yaml if the article really is that long)"
    ) in result.stderr.splitlines()
    assert (workspace / "output" / "good.pdf").exists()
    assert not (workspace / "output" / "long.pdf").exists()


def test_too_many_pages_is_refused(workspace: Path, write: WriteFile) -> None:
    settings_yaml(workspace, "  max_pages: 3\n")
    write("long.md", "---\ntitle: Long\n---\n" + "\n\n".join(f"Text {n}." for n in range(200)))
    result = run("build", "--no-pack")
    assert result.exit_code == 1
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert line.startswith("error: content/long.md: laid out as ")
    assert line.endswith(
        "pages, more than a leaflet should be (the limit is 3; raise leaflets.max_pages in "
        "handouts.yaml if it is right)"
    )


def test_a_planted_symlink_is_replaced_not_written_through(
    workspace: Path, write: WriteFile, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (workspace / "output").mkdir()
    (workspace / "output" / "good.pdf").symlink_to(victim)
    write("good.md", GOOD)
    assert run("build", "--no-pack").exit_code == 0
    assert victim.read_text() == "keep me"
    assert not (workspace / "output" / "good.pdf").is_symlink()


def test_name_collisions_are_reported(workspace: Path, write: WriteFile) -> None:
    write("Foo.md", GOOD)
    write("foo.md", GOOD)
    write("Cafe\u0301.md", GOOD)
    write("Café.md", GOOD)
    result = run("check")
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2
    assert all("is already used by content/" in e for e in errors)


def test_articles_outside_the_workspace_are_refused(
    workspace: Path, write: WriteFile, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text(GOOD)
    (workspace / "content" / "linked.md").symlink_to(outside)
    result = run("build")
    assert result.exit_code == 1
    assert "is outside the workspace" in result.stderr
    assert "copy the article into content/, or choose the workspace with -w" in result.stderr
    assert not (workspace / "output").exists()


def test_fail_fast_stops_at_the_first_failure(workspace: Path, write: WriteFile) -> None:
    write("a-bad.md", "---\ntitle: Bad\ndate: nonsense\n---\nText\n")
    write("b-good.md", GOOD)
    result = run("build", "--fail-fast")
    assert result.exit_code == 1
    assert "error: content/b-good.md: not built: stopped at the first failure" in result.stderr
    assert not list((workspace / "output").glob("*.pdf"))


def test_builds_are_byte_identical(
    workspace: Path, write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    write("a.md", GOOD)
    write("b.md", GOOD.replace("Good", "Other"))
    assert run("build", "-j", "1").exit_code == 0
    assert run("build", "-j", "2", "-o", str(tmp_path / "again")).exit_code == 0

    def digests(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.pdf")}

    first, second = digests(workspace / "output"), digests(tmp_path / "again")
    assert set(first) == {"a.pdf", "b.pdf", "leaflet-pack.pdf"}
    assert first == second
    for pdf in (workspace / "output").glob("*.pdf"):
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


@pytest.fixture(scope="module")
def fuzz_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "handouts.yaml").write_text(CONFIG_YAML)
    return load_config(root)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.builds(
            lambda front, body: f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass"),
            st.text(max_size=120),
            st.text(max_size=200),
        ),
    )
)
def test_reading_any_bytes_succeeds_or_raises_our_error(fuzz_config: Config, data: bytes) -> None:
    path = fuzz_config.workspace / "fuzz.md"
    path.write_bytes(data)
    try:
        article = read_article(path, fuzz_config)
    except ContentError as err:
        # The property itself: our error, one line, naming the file.
        assert err.message.startswith(str(path))  # noqa: PT017
        assert "\n" not in err.message  # noqa: PT017
    else:
        assert article.title
        assert article.body_html
        article.title.encode("utf-8")  # no lone surrogates reach the PDF stage
        article.body_html.encode("utf-8")


def test_many_repeats_are_summed_up(config: Config, write: WriteFile) -> None:
    path = write("table.csv.md", "a,b,c\n1,2,3\n" * 50)
    messages = [f.message for f in read_article(path, config).warnings]
    repeats = [m for m in messages if "repeat" in m]
    assert len(repeats) == 4
    assert repeats[-1] == (
        "dropped 45 more paragraphs that repeat earlier ones (is this really an article?)"
    )


def test_far_too_long_is_refused_before_layout(workspace: Path, write: WriteFile) -> None:
    write("huge.md", "---\ntitle: Huge\n---\n" + "word " * 300_000)
    started = time.monotonic()
    result = run("build", "--no-pack")
    assert time.monotonic() - started < 20
    assert (
        "error: content/huge.md: about 501 pages of text, more than a leaflet should be (the "
        "limit is 60; raise leaflets.max_pages in handouts.yaml if it is right)"
    ) in result.stderr.splitlines()
