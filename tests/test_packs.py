"""Leaflet packs, checked the way a nurse or a PDF tool would see them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from handouts import build, load_config
from handouts.cli import cli

from .conftest import CONFIG_YAML, WriteFile

ARTICLE = "---\ntitle: {title}\ndate: 2025-05-0{n}\n---\n{body}\n"
LONG_BODY = "\n\n".join(
    f"## Part {i}\n\n" + "This paragraph is long enough to fill some of the page. " * 12
    for i in range(1, 6)
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def page_texts(pdf: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(pdf).pages]


def outline(pdf: Path) -> list[tuple[str, int, list[tuple[str, int]]]]:
    with pikepdf.open(pdf) as document:
        index = {page.objgen: number + 1 for number, page in enumerate(document.pages)}
        with document.open_outline() as tree:
            return [
                (
                    item.title,
                    index[item.destination[0].objgen],
                    [(c.title, index[c.destination[0].objgen]) for c in item.children],
                )
                for item in tree.root
            ]


@pytest.fixture
def liver(workspace: Path, write: WriteFile) -> Path:
    """Four articles and a declared pack of three of them, one chosen by a glob."""
    write(
        "palliative-liver.md", ARTICLE.format(title="Palliative liver surgery", n=1, body=LONG_BODY)
    )
    write(
        "eating-after-liver-surgery.md",
        ARTICLE.format(title="Eating after liver surgery", n=2, body="Eat small meals."),
    )
    write(
        "going-home-checklist.md",
        ARTICLE.format(
            title="Going home checklist", n=3, body="## Before you leave\n\nAsk for a letter."
        ),
    )
    write("unrelated.md", ARTICLE.format(title="Unrelated", n=4, body="Something else."))
    (workspace / "handouts.yaml").write_text(
        CONFIG_YAML
        + "packs:\n"
        "  liver-surgery:\n"
        "    title: Going home after liver surgery\n"
        "    articles: [palliative-liver, eating-after-liver-surgery, going-home-*]\n"
        "    note: Bring this pack to your follow-up appointment.\n"
    )  # fmt: skip
    return workspace


def test_contents_numbers_are_the_pages_where_leaflets_start(liver: Path) -> None:
    result = run("build")
    assert result.exit_code == 0, result.output
    pack = liver / "output" / "liver-surgery.pdf"
    texts = page_texts(pack)
    assert "Going home after liver surgery" in texts[0]
    assert "Bring this pack to your follow-up appointment." in texts[0]
    contents = texts[1]
    titles = ["Palliative liver surgery", "Eating after liver surgery", "Going home checklist"]
    manifest = json.loads((liver / "output" / "manifest.json").read_text())
    [entry] = manifest["packs"]
    starts = [leaflet["start_page"] for leaflet in entry["leaflets"]]
    for title, start in zip(titles, starts, strict=True):
        assert re.search(rf"{title} {start}\b", contents), (title, start, contents)
        # That page is the leaflet's first: its title and its own "Page 1 of N".
        assert title in texts[start - 1]
        assert "Page 1 of" in texts[start - 1]
    assert [leaflet["slug"] for leaflet in entry["leaflets"]] == [
        "palliative-liver", "eating-after-liver-surgery", "going-home-checklist",
    ]  # fmt: skip
    assert starts[0] == 3  # after the cover and the contents
    assert starts[0] < starts[1] < starts[2]
    assert entry["pages"] == len(texts)


def test_one_bookmark_per_leaflet_with_its_headings(liver: Path) -> None:
    run("build")
    tree = outline(liver / "output" / "liver-surgery.pdf")
    manifest = json.loads((liver / "output" / "manifest.json").read_text())
    starts = [leaflet["start_page"] for leaflet in manifest["packs"][0]["leaflets"]]
    assert [(title, page) for title, page, _ in tree[1:]] == list(
        zip(["Palliative liver surgery", "Eating after liver surgery", "Going home checklist"],
            starts, strict=True)
    )  # fmt: skip
    palliative_headings = tree[1][2]
    assert [title for title, _ in palliative_headings] == [f"Part {i}" for i in range(1, 6)]
    assert all(page >= starts[0] for _, page in palliative_headings)
    assert tree[3][2] == [("Before you leave", starts[2])]


def test_pack_pages_are_the_leaflets_own_pages(liver: Path) -> None:
    run("build")
    output = liver / "output"
    manifest = json.loads((output / "manifest.json").read_text())
    with pikepdf.open(output / "liver-surgery.pdf") as pack:
        for leaflet in manifest["packs"][0]["leaflets"]:
            with pikepdf.open(output / f"{leaflet['slug']}.pdf") as alone:
                for offset, page in enumerate(alone.pages):
                    in_pack = pack.pages[leaflet["start_page"] - 1 + offset]
                    assert in_pack.Contents.read_bytes() == page.Contents.read_bytes()


def test_duplex_starts_every_leaflet_on_a_right_hand_page(liver: Path) -> None:
    text = (liver / "handouts.yaml").read_text()
    (liver / "handouts.yaml").write_text(text + "    duplex: true\n")
    assert run("build").exit_code == 0
    manifest = json.loads((liver / "output" / "manifest.json").read_text())
    starts = [leaflet["start_page"] for leaflet in manifest["packs"][0]["leaflets"]]
    assert all(start % 2 == 1 for start in starts), starts
    texts = page_texts(liver / "output" / "liver-surgery.pdf")
    assert texts[1].strip() == ""  # the back of the cover is blank
    assert "Contents" in texts[2]
    for start in starts[1:]:
        assert "Page 1 of" in texts[start - 1]


def test_pack_with_a_broken_article_is_not_written(liver: Path, write: WriteFile) -> None:
    write("eating-after-liver-surgery.md", "---\ntitle: Eating\ndate: not a date\n---\nText\n")
    result = run("build")
    assert result.exit_code == 1
    assert (
        "error: pack 'liver-surgery' not written: held back by "
        "content/eating-after-liver-surgery.md, which failed"
    ) in result.stderr
    assert not (liver / "output" / "liver-surgery.pdf").exists()
    assert (liver / "output" / "palliative-liver.pdf").exists()


def test_pack_naming_a_missing_article_is_a_config_error(liver: Path) -> None:
    text = (liver / "handouts.yaml").read_text().replace("going-home-*", "going-out-*")
    (liver / "handouts.yaml").write_text(text)
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: handouts.yaml has 1 configuration error:\n"
        "  handouts.yaml:16: packs.liver-surgery: no article named 'going-out-*' (article "
        "names are file names without the ending, e.g. 'eating-after-liver-surgery')\n"
    )
    assert not (liver / "output").exists()


def test_no_pack_and_one_pack(liver: Path) -> None:
    assert run("build", "--no-pack").exit_code == 0
    assert not (liver / "output" / "liver-surgery.pdf").exists()
    for pdf in (liver / "output").glob("*.pdf"):
        pdf.unlink()
    result = run("build", "--pack", "liver-surgery")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (liver / "output").glob("*.pdf")) == [
        "eating-after-liver-surgery.pdf", "going-home-checklist.pdf", "liver-surgery.pdf",
        "palliative-liver.pdf",
    ]  # fmt: skip
    unknown = run("build", "--pack", "kidney")
    assert (unknown.exit_code, unknown.stderr) == (
        1,
        "Error: No pack named 'kidney'. Packs: liver-surgery\n",
    )


def test_adhoc_pack_prints_the_note_and_stores_it_nowhere(liver: Path) -> None:
    note = "Mrs Jones: follow-up on 3 March with Mr Shah"
    result = run(
        "pack", "unrelated", "palliative-*", "--title", "Your leaflets", "--note", note,
        "-o", "print/jones.pdf",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = page_texts(liver / "print" / "jones.pdf")
    assert note in texts[0]
    assert "Unrelated 3" in texts[1]
    for stored in (liver / "output").iterdir():
        assert "Mrs Jones" not in stored.read_bytes().decode("latin-1")
    missing = run("pack", "nope", "-o", "x.pdf")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: No article named 'nope' in content")


def test_default_pack_of_every_article(workspace: Path, write: WriteFile) -> None:
    write("a.md", ARTICLE.format(title="Alpha", n=1, body="A."))
    write("b.md", ARTICLE.format(title="Beta", n=2, body="B."))
    result = build(load_config(workspace), jobs=1)
    [pack] = result.packs
    assert (pack.name, pack.slugs, pack.starts) == ("leaflet-pack", ("a", "b"), (3, 4))
