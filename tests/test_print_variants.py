"""Print variants: large print, paper sizes and booklets, measured in the PDFs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts import build, load_config
from handouts.assemble import booklet_order

from .conftest import CONFIG_YAML, WriteFile

BODY = "\n\n".join(
    f"## Part {n}\n\n" + f"Paragraph {n} says something useful for the patient. " * 8
    for n in range(1, 5)
)
ARTICLE = "---\ntitle: {title}\nauthor: Ward 9\ndate: 2025-05-01\n{extra}---\n{body}\n"


def font_sizes(pdf: Path, needle: str) -> list[float]:
    """The rendered size, in points, of every text run containing ``needle``."""
    sizes: list[float] = []
    for page in PdfReader(pdf).pages:

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
            if needle in text:
                scale = (tm[0] * cm[0] + tm[1] * cm[2]) if tm[0] or tm[1] else 1
                sizes.append(round(size * abs(scale), 1))

        page.extract_text(visitor_text=visit)
    return sizes


def page_size(pdf: Path, number: int = 0) -> tuple[float, float]:
    box = PdfReader(pdf).pages[number].mediabox
    return round(float(box.width)), round(float(box.height))


def half_text(pdf: Path, page: int, right: bool) -> str:
    """The text on the left or right half of an A4 landscape sheet (842 x 595 pt)."""
    args = ["pdftotext", "-f", str(page), "-l", str(page), "-x", str(421 if right else 0),
            "-y", "0", "-W", "421", "-H", "595", str(pdf), "-"]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_large_print_is_typeset_at_18_pt(workspace: Path, write: WriteFile) -> None:
    write("falls.md", ARTICLE.format(title="Falls", extra="", body=BODY))
    result = build(load_config(workspace), jobs=1, packs=False, large_print=True)
    assert result.ok, result.summary()
    output = workspace / "output"
    assert [p.name for p in output.glob("*.pdf")] == ["falls-large-print.pdf"]
    large = output / "falls-large-print.pdf"
    body = font_sizes(large, "says something useful")
    assert body
    assert min(body) >= 16  # UKAAF: at least 16 pt, ideally 18
    assert min(font_sizes(large, "Page 1 of")) >= min(body)  # page numbers at body size
    build(load_config(workspace), jobs=1, packs=False)
    standard = font_sizes(output / "falls.pdf", "says something useful")
    assert max(standard) < min(body)
    # Re-flowed, not scaled: the same A4 paper, more pages.
    assert page_size(large) == page_size(output / "falls.pdf") == (595, 842)
    assert len(PdfReader(large).pages) > len(PdfReader(output / "falls.pdf").pages)


def test_article_can_ask_for_large_print_too(workspace: Path, write: WriteFile) -> None:
    write("a.md", ARTICLE.format(title="A", extra="large_print: true\n", body="Text."))
    build(load_config(workspace), jobs=1, packs=False)
    assert sorted(p.name for p in (workspace / "output").glob("*.pdf")) == [
        "a-large-print.pdf",
        "a.pdf",
    ]


@pytest.mark.parametrize(("paper", "size"), [("A5", (420, 595)), ("Letter", (612, 792))])
def test_paper_sizes(workspace: Path, write: WriteFile, paper: str, size: tuple[int, int]) -> None:
    write("a.md", ARTICLE.format(title="A", extra="", body="Text."))
    build(load_config(workspace), jobs=1, packs=False, paper=paper)
    [pdf] = (workspace / "output").glob("*.pdf")
    assert pdf.name == f"a-{paper.lower()}.pdf"
    assert page_size(pdf) == size


def test_booklet_pages_are_a4_landscape_in_saddle_stitch_order(
    workspace: Path, write: WriteFile
) -> None:
    write("alpha.md", ARTICLE.format(title="Alpha", extra="", body=BODY))
    write("beta.md", ARTICLE.format(title="Beta", extra="", body="Short."))
    result = build(load_config(workspace), jobs=1, booklet=True)
    assert result.ok, result.summary()
    output = workspace / "output"
    a5 = PdfReader(output / "leaflet-pack-a5.pdf")
    pages = len(a5.pages)
    booklet = output / "leaflet-pack-booklet.pdf"
    sheets = PdfReader(booklet)
    assert len(sheets.pages) == 2 * -(-pages // 4)
    assert all(page_size(booklet, n) == (842, 595) for n in range(len(sheets.pages)))
    first_lines = [
        next((line for line in page.extract_text().splitlines() if line.strip()), "")
        for page in a5.pages
    ]
    for side, (left, right) in enumerate(booklet_order(pages), start=1):
        for number, is_right in ((left, False), (right, True)):
            text = half_text(booklet, side, is_right)
            if number is None:
                assert text.strip() == ""
            else:
                assert first_lines[number - 1].strip()[:20] in text
    assert (output / "alpha-booklet.pdf").exists()


def test_booklet_order() -> None:
    assert booklet_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert booklet_order(5) == [(None, 1), (2, None), (None, 3), (4, 5)]


def test_large_print_pack(workspace: Path, write: WriteFile) -> None:
    write("a.md", ARTICLE.format(title="A", extra="", body="Text."))
    (workspace / "handouts.yaml").write_text(
        CONFIG_YAML + "packs:\n  p: {title: P, articles: [a], large_print: true}\n"
    )
    result = build(load_config(workspace), jobs=1)
    assert result.ok, result.summary()
    assert sorted(p.name for p in (workspace / "output").glob("*.pdf")) == [
        "a-large-print.pdf", "a.pdf", "p-large-print.pdf", "p.pdf",
    ]  # fmt: skip
