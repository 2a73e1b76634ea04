"""The command line as a user meets it: exact messages, exit codes, files made."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from handouts import __version__
from handouts.cli import cli

from .conftest import WriteFile

GOOD = (
    "---\ntitle: Good article\nauthor: Ward 9 nurses\nsource: Testshire Hospitals\n"
    "source_url: https://www.testshire.example/good\ndate: 2025-01-01\n---\nSome good text.\n"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


BAD_INPUTS = [
    ("bad-yaml.md", "---\ntitle: Foo: Bar\n---\nText\n",
     "error: content/bad-yaml.md:2:11: invalid YAML: mapping values are not allowed in this "
     "context (if a value contains ': ', put the value in quotes)"),
    ("no-title.md", "---\nauthor: Someone\n---\nText\n",
     "error: content/no-title.md:1: missing required field 'title'; add 'title: …' to the "
     "front matter"),
    ("empty.txt", "", "error: content/empty.txt: the file is empty; there is nothing to make a "
     "leaflet from"),
    ("latin1.txt", "Title\n\nCaf\xe9\n".encode("latin-1"),
     "error: content/latin1.txt:3:4: not valid UTF-8 (byte 0xE9); re-save the file as UTF-8 "
     "(in most editors: Save As, Encoding: UTF-8)"),
    ("wrong-template.md", "---\ntitle: T\ntemplate: fancy\n---\nText\n",
     "error: content/wrong-template.md: Template 'fancy' not found. Available templates: "
     "leaflet"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "expected"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_article_is_reported_and_the_good_one_still_built(
    workspace: Path, write: WriteFile, name: str, content: str | bytes, expected: str
) -> None:
    write("good.md", GOOD)
    write(name, content)
    result = run("build")
    assert result.exit_code == 1
    assert expected in lines(result.stderr)
    assert "Traceback" not in result.output
    summary = lines(result.stdout)[-1]
    assert summary.startswith("Built 1 of 2 leaflets (1 rendered, 0 reused) in output/ in ")
    assert summary.endswith(f"; 1 failed: content/{name}; pack not written: leaflet-pack.")
    # The pack of every article is held back by the bad one, and says so.
    assert (
        f"error: pack 'leaflet-pack' not written: held back by content/{name}, which failed"
        in lines(result.stderr)
    )
    assert (workspace / "output" / "good.pdf").stat().st_size > 1000
    assert sorted(p.name for p in (workspace / "output").glob("*.pdf")) == ["good.pdf"]


def test_clean_build_exits_zero(workspace: Path, fixture_articles: Path) -> None:
    result = run("build")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1].startswith(
        "Built 3 leaflets (3 rendered, 0 reused) and 1 pack in output/ in "
    )
    assert len(list((workspace / "output").glob("*.pdf"))) == 4  # three leaflets and the pack


def test_named_files_and_output_folder(workspace: Path, fixture_articles: Path) -> None:
    result = run("build", "content/cms-export.txt", "-o", "print")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (workspace / "print").glob("*.pdf")] == ["cms-export.pdf"]


def test_strict_fails_on_warnings_and_writes_nothing(workspace: Path, write: WriteFile) -> None:
    write("undated.md", "---\ntitle: No date\n---\nText.\n")
    result = run("build", "--strict")
    assert result.exit_code == 1
    assert (
        "warning: content/undated.md: no publication date, so no review date can be "
        "printed; add 'date:'"
    ) in lines(result.stderr)
    # No date, author, publisher or link: four warnings, each an error under --strict.
    assert "error: content/undated.md: 4 warning(s), and --strict is on" in lines(result.stderr)
    assert not (workspace / "output" / "undated.pdf").exists()


def test_unknown_template_option_stops_before_building(workspace: Path, write: WriteFile) -> None:
    write("good.md", GOOD)
    result = run("build", "--template", "fancy")
    assert result.exit_code == 1
    assert result.stderr == "Error: Template 'fancy' not found. Available templates: leaflet\n"
    assert not (workspace / "output").exists()


def test_config_errors_are_listed_together(workspace: Path) -> None:
    (workspace / "handouts.yaml").write_text("brand: {colour: blue}\nleaflets: {paper: A3}\n")
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: handouts.yaml has 2 configuration errors:\n"
        "  handouts.yaml:1: brand.colour: expected a hex colour such as \"#005eb8\" (got 'blue')\n"
        "  handouts.yaml:2: leaflets.paper: expected one of: A4, A5, Letter (got 'A3')\n"
    )


def test_missing_path(workspace: Path) -> None:
    result = run("build", "nowhere.md")
    assert (result.exit_code, result.stderr) == (1, "Error: Path 'nowhere.md' does not exist\n")


def test_unsupported_file(workspace: Path, write: WriteFile) -> None:
    write("notes.rtf", "{\\rtf1}")
    result = run("build", "content/notes.rtf")
    assert result.stderr == (
        "Error: Don't know how to read 'content/notes.rtf' (supported: .md, .markdown, .txt)\n"
    )


def test_check_validates_without_pdfs(
    workspace: Path, fixture_articles: Path, write: WriteFile
) -> None:
    write("broken.md", "---\ntitle: T\ndate: 2024-13-45\n---\nText\n")
    result = run("check")
    assert result.exit_code == 1
    assert (
        "error: content/broken.md:3: invalid date '2024-13-45' in 'date'; write it as "
        "YYYY-MM-DD, e.g. 2025-09-22"
    ) in lines(result.stderr)
    assert lines(result.stdout)[-1].startswith("Checked 4 leaflets: 3 ok, ")
    assert not (workspace / "output").exists()


def test_check_passes_clean_content(workspace: Path, write: WriteFile) -> None:
    write("good.md", GOOD)
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "Checked 1 leaflet: 1 ok.\n")


def test_init_makes_a_workspace_that_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init", "ward7")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ward7" / "handouts.yaml").is_file()
    result = run("build", "-w", "ward7")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "ward7" / "output").glob("*.pdf")) == [
        "example.pdf",
        "leaflet-pack.pdf",
    ]
    again = run("init", "ward7")
    assert (again.exit_code, again.stderr) == (
        1,
        "Error: 'ward7' is already a workspace (it has handouts.yaml)\n",
    )


def test_version() -> None:
    assert run("--version").stdout == f"handouts, version {__version__}\n"


@pytest.mark.parametrize("command", ["build", "check", "init", "pack", "watch"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    for flag in ("-h", "--help"):
        result = run(command, flag)
        assert result.exit_code == 0
        assert "Example" in result.stdout
        assert f"handouts {command}" in result.stdout


def test_python_dash_m(workspace: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "handouts", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == f"handouts, version {__version__}\n"
