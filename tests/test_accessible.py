"""Accessible PDF: tagged PDF/UA-1 leaflets and packs, by default."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from handouts import build, load_config
from handouts.cli import cli
from handouts.config import PDF_VARIANTS

from .conftest import WriteFile

ARTICLE = "---\ntitle: {0}\ndate: 2025-01-01\nlanguage: en-GB\n---\n## {0} part\n\nText.\n"


def structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every structure element, depth first."""
    found: list[pikepdf.Dictionary] = []

    def walk(node: object) -> None:
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node.keys():
            found.append(node)
            walk(node.get("/K"))

    walk(pdf.Root.StructTreeRoot.K)
    return found


@pytest.fixture
def built(workspace: Path, write: WriteFile) -> Path:
    for title in ("Alpha", "Beta"):
        write(f"{title.lower()}.md", ARTICLE.format(title))
    result = build(load_config(workspace), jobs=1)
    assert result.ok, result.summary()
    return workspace / "output"


def test_leaflet_is_tagged_pdf_ua(built: Path) -> None:
    info = subprocess.run(
        ["pdfinfo", str(built / "alpha.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Tagged:          yes" in info
    assert "Title:           Alpha" in info
    with pikepdf.open(built / "alpha.pdf") as pdf:
        assert pdf.Root.ViewerPreferences.DisplayDocTitle  # title, not file name, in the title bar
        assert str(pdf.Root.Lang) == "en-GB"
        with pdf.open_metadata() as xmp:
            assert xmp["pdfuaid:part"] == "1"
        tags = [str(e.S) for e in structure(pdf)]
        assert tags.index("/H1") < tags.index("/H2")


def test_pack_keeps_every_leaflets_structure(built: Path) -> None:
    with pikepdf.open(built / "leaflet-pack.pdf") as pdf:
        assert "/StructTreeRoot" in pdf.Root.keys()
        pages = {page.objgen for page in pdf.pages}
        tree = {int(k) for k, _ in pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree).items()}
        for page in pdf.pages:
            if "/StructParents" in page.obj.keys():
                assert int(page.obj.StructParents) in tree
        elements = structure(pdf)
        assert all(e.Pg.objgen in pages for e in elements if "/Pg" in e.keys())
        headings = [e for e in elements if e.S == "/H1"]
        assert len(headings) == 3  # the pack's title and each leaflet's
        assert sum(1 for e in elements if e.S == "/Part" and e.P.S == "/Document") >= 2


def test_pdf_a_variant_on_request(workspace: Path, write: WriteFile) -> None:
    write("alpha.md", ARTICLE.format("Alpha"))
    result = CliRunner().invoke(cli, ["build", "--pdf-variant", "pdf/a-3u", "--no-pack"])
    assert result.exit_code == 0, result.output
    with pikepdf.open(workspace / "output" / "alpha.pdf") as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "3"
        assert xmp["pdfaid:conformance"] == "U"


def test_unknown_variant_lists_the_valid_ones(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--pdf-variant", "pdf/z"])
    assert result.exit_code == 2
    assert "'pdf/z' is not one of 'pdf/ua-1', 'pdf/ua-2', 'pdf/a-1a'" in result.output


def test_variant_list_matches_weasyprint() -> None:
    from weasyprint.pdf import VARIANTS

    assert set(PDF_VARIANTS) == set(VARIANTS) - {"debug"}
