"""handouts doctor: versions, the subset library, fonts per language."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from handouts.cli import cli


def test_doctor_reports_engine_fonts_and_languages(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("WeasyPrint ") for line in lines)
    assert any(line.startswith("Pango ") for line in lines)
    assert "HarfBuzz subset library  present" in lines
    assert "  LiberationSans-Regular.ttf" in lines
    languages = {
        line.split()[0]: line for line in lines if line.startswith("  ") and "  " in line[2:]
    }
    assert languages["zh-Hans"].endswith("Noto Sans CJK SC")
    assert languages["ar"].endswith("Noto Sans Arabic")
    assert languages["pl"].endswith("Liberation Sans (shipped with the templates)")


def test_a_language_without_fonts_is_a_problem(workspace: Path) -> None:
    labels = workspace / "templates" / "labels"
    labels.mkdir(parents=True)
    # Private-use characters: no font has them.
    (labels / "xx.yaml").write_text('written_by: "\ue000\ue001 {name}"\n')
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert "  xx       NONE: text would print as empty boxes" in result.stdout.splitlines()
    assert result.stderr.startswith("problem: no font for xx text (templates/labels/xx.yaml)")
