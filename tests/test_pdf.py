"""Real PDFs, inspected the way a reader or a PDF tool would see them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts import build, load_config
from handouts.build import BuildResult

from .conftest import CONFIG_YAML, FIXTURES


def text_of(reader: PdfReader, page: int | None = None) -> str:
    pages = reader.pages if page is None else [reader.pages[page]]
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The three fixture articles, built once for every test in this module."""
    root = tmp_path_factory.mktemp("pdf") / "ws"
    (root / "content").mkdir(parents=True)
    (root / "handouts.yaml").write_text(CONFIG_YAML)
    for source in FIXTURES.iterdir():
        shutil.copy(source, root / "content" / source.name)
    result = build(load_config(root))
    assert result.ok, result.summary()
    return root / "output", result


def test_one_pdf_per_article(built: tuple[Path, BuildResult]) -> None:
    output, result = built
    assert sorted(p.name for p in output.glob("*.pdf")) == [
        "cms-export.pdf", "inhaler-technique.pdf", "leaflet-pack.pdf", "pasted-web-page.pdf",
    ]  # fmt: skip
    assert all(r.pages >= 1 for r in result.leaflets)
    assert not list(output.glob(".*.tmp")), "temporary files were left behind"


def test_leaflet_carries_attribution_dates_and_branding(built: tuple[Path, BuildResult]) -> None:
    text = text_of(PdfReader(built[0] / "pasted-web-page.pdf"))
    for expected in (
        "What should I do if my ankle is swollen after a long flight?",
        "Written by Dr. Priya Raman",
        "Source: Healthwise Daily",
        "Published 14 October 2025",
        "Review due: 14 October 2028",
        "Testshire Hospitals",
        "Ward 9",
        "01632 960 123",
        "www.testshire.example",
    ):
        assert expected in text


def test_cleaned_text_has_no_leftovers(built: tuple[Path, BuildResult]) -> None:
    pasted = text_of(PdfReader(built[0] / "pasted-web-page.pdf"))
    assert pasted.count("Sitting still for") == 1  # the repeated paragraph, once
    assert "Related Articles" not in pasted
    assert "View All" not in pasted
    cms = text_of(PdfReader(built[0] / "cms-export.pdf"))
    for leftover in ("\\n", "**", "&nbsp;"):
        assert leftover not in cms


def test_every_page_is_numbered_with_the_total(built: tuple[Path, BuildResult]) -> None:
    for pdf in built[1].leaflets:
        assert pdf.pdf is not None
        reader = PdfReader(pdf.pdf)
        total = len(reader.pages)
        for index in range(total):
            page = text_of(reader, index)
            assert f"Page {index + 1} of {total}" in page
            assert "Testshire Hospitals" in page  # contact footer on every page


def test_source_link_is_clickable_and_absolute(built: tuple[Path, BuildResult]) -> None:
    reader = PdfReader(built[0] / "cms-export.pdf")
    uris = [
        annot.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annot in page.get("/Annots", [])
        if "/A" in annot.get_object()
    ]
    assert "https://quicktakes.io/learn/medicine/questions/why-finish-antibiotics" in uris
    assert all(u.startswith(("https://", "http://", "mailto:", "tel:")) for u in uris)


def test_metadata(built: tuple[Path, BuildResult]) -> None:
    reader = PdfReader(built[0] / "inhaler-technique.pdf")
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Using your inhaler"
    assert meta.author == "Respiratory Nursing Team"
    assert meta.subject == "How to use a pressurised inhaler with a spacer."
    assert meta["/Keywords"] == "asthma, inhaler, spacer"
    assert meta["/CreationDate"].startswith("D:20251102")
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"


def test_all_fonts_embedded(built: tuple[Path, BuildResult]) -> None:
    for pdf in built[0].glob("*.pdf"):
        for page in PdfReader(pdf).pages:
            fonts = page["/Resources"]["/Font"]
            for ref in fonts.values():
                font = ref.get_object()
                if font["/Subtype"] == "/Type0":
                    font = font["/DescendantFonts"][0].get_object()
                descriptor = font["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                # Named after the template's @font-face family: the bundled font, not a
                # fallback the machine happened to have.
                assert "Leaflet-Sans" in str(font["/BaseFont"])


def test_nothing_outside_the_workspace_is_loaded(workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.svg"
    secret.parent.mkdir()
    secret.write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><title>TOPSECRET</title>"
        "</svg>"
    )
    (workspace / "content" / "sneaky.md").write_text(
        "---\ntitle: Sneaky\n---\n"
        "![a](../../outside/secret.svg) ![b](secret-link.svg)\n\n"
        '<img src="file:///etc/hostname"> <img src="http://127.0.0.1:9/x.png">\n'
    )
    (workspace / "content" / "secret-link.svg").symlink_to(secret)
    result = build(load_config(workspace))
    [leaflet] = result.leaflets
    assert leaflet.ok
    warnings = [f.message for f in leaflet.warnings]
    assert any(w.startswith(f"blocked '{secret}': outside the workspace") for w in warnings)
    assert any("file:///etc/hostname" in w or "http://127.0.0.1" in w for w in warnings)
    data = (workspace / "output" / "sneaky.pdf").read_bytes()
    assert b"TOPSECRET" not in data


def test_qr_code_decodes_to_the_source_url(built: tuple[Path, BuildResult], tmp_path: Path) -> None:
    import subprocess

    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile",
         str(built[0] / "cms-export.pdf"), str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    decoded = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "page.png")],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert decoded == ["https://quicktakes.io/learn/medicine/questions/why-finish-antibiotics"]
