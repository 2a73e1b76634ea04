"""Languages: printed labels, local dates, real glyphs, right-to-left layout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts import build, load_config
from handouts.build import BuildResult
from handouts.config import Config
from handouts.render import load_labels, page_counter

from .conftest import WriteFile

CHINESE = """---
title: 洗手的重要性
author: 感染控制护理团队
date: 2025-03-01
source: 示例医院
language: zh-Hans
---
勤洗手可以预防感染。请用肥皂和清水洗手至少二十秒。

## 什么时候洗手

- 上厕所以后
- 吃饭以前
"""
ARABIC = """---
title: أهمية غسل اليدين
author: فريق مكافحة العدوى
date: 2025-03-01
language: ar
---
غسل اليدين بانتظام يمنع العدوى. اغسل يديك بالماء والصابون لمدة عشرين ثانية على الأقل.
"""


def one(workspace: Path, write: WriteFile, name: str, text: str) -> tuple[BuildResult, Path]:
    write(name, text)
    result = build(load_config(workspace), jobs=1, packs=False)
    assert result.ok, result.summary()
    return result, workspace / "output" / f"{Path(name).stem}.pdf"


def fonts(pdf: Path) -> list[list[str]]:
    listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    return [line.split() for line in listed.stdout.splitlines()[2:]]


def test_chinese_extracts_as_the_same_characters_with_embedded_fonts(
    workspace: Path, write: WriteFile
) -> None:
    result, pdf = one(workspace, write, "wash.md", CHINESE)
    assert not any("empty boxes" in w.message for w in result.leaflets[0].warnings)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for phrase in (
        "洗手的重要性",
        "勤洗手可以预防感染。请用肥皂和清水洗手至少二十秒。",
        "上厕所以后",
    ):
        assert phrase in text
    assert "作者：感染控制护理团队" in text
    assert "发布日期：2025年3月1日" in text
    assert "第 1 页，共 1 页" in text
    listed = fonts(pdf)
    assert all(row[-5] == "yes" for row in listed)  # every font embedded
    assert any("CJK-SC" in row[0] for row in listed)
    assert not any("CJK-JP" in row[0] for row in listed)  # Simplified forms, not Japanese


def test_arabic_runs_right_to_left(workspace: Path, write: WriteFile) -> None:
    _, pdf = one(workspace, write, "ar.md", ARABIC)
    page = PdfReader(pdf).pages[0]
    width = float(page.mediabox.width)
    positions: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            positions.append((text, tm[4] * cm[0] + cm[4]))

    page.extract_text(visitor_text=visit)
    body = [x for text, x in positions if "غسل اليدين بانتظام" in text or "العدوى" in text]
    assert body, positions
    # Right-aligned: the body's lines end at the right margin, far from the left one.
    assert max(body) > width / 2
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == "ar"


@pytest.mark.parametrize(
    ("language", "written", "date"),
    [
        ("es", "Escrito por Ana", "Publicado el 1 de marzo de 2025"),
        ("pl", "Autor: Ana", "Data publikacji: 1 marca 2025"),
        ("en-US", "Written by Ana", "Published March 1, 2025"),
        ("en", "Written by Ana", "Published 1 March 2025"),
    ],
)
def test_labels_and_dates_follow_the_language(
    workspace: Path, write: WriteFile, language: str, written: str, date: str
) -> None:
    _, pdf = one(
        workspace, write, "a.md",
        f"---\ntitle: T\nauthor: Ana\ndate: 2025-03-01\nlanguage: {language}\n---\nText.\n",
    )  # fmt: skip
    text = re.sub(r"\s+", " ", PdfReader(pdf).pages[0].extract_text())
    assert written in text
    assert date in text


def test_unknown_language_falls_back_to_english_with_a_warning(
    workspace: Path, write: WriteFile
) -> None:
    result, _ = one(
        workspace, write, "cy.md", "---\ntitle: T\ndate: 2025-01-01\nlanguage: cy\n---\nText.\n"
    )
    [leaflet] = result.leaflets
    assert (
        "no printed labels for language 'cy', so they are in English; "
        "add templates/labels/cy.yaml to translate them"
    ) in [w.message for w in leaflet.warnings]


def test_missing_glyphs_are_one_warning_naming_the_language(
    workspace: Path, write: WriteFile
) -> None:
    write("pua.md", "---\ntitle: T\ndate: 2025-01-01\n---\nA \ue000 and \ue001.\n")
    result = build(load_config(workspace), jobs=1, packs=False)
    [leaflet] = result.leaflets
    glyphs = [w.message for w in leaflet.warnings if "empty boxes" in w.message]
    assert glyphs == [
        "2 character(s) of this en article have no font and would print as empty boxes: "
        "'\ue000' (U+E000), '\ue001' (U+E001); install fonts for the language "
        "(see 'handouts doctor')"
    ]


def test_traditional_chinese_never_gets_simplified_labels(config: Config) -> None:
    labels = load_labels("zh-TW", config)
    assert labels.language == "en"
    assert labels.warning is not None
    assert load_labels("zh-CN", config).language == "zh-Hans"
    assert load_labels("ar", config).direction == "rtl"


def test_page_counter_keeps_word_order() -> None:
    css = page_counter("第 {page} 页，共 {pages} 页")
    # The full-width comma is CSS-escaped (\\ff0c); the PDF shows it as written.
    assert css == '"第 " counter(page) " 页\\ff0c 共 " counter(pages) " 页"'
