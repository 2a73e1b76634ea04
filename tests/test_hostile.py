"""Hostile and broken input: nothing leaks, nothing is lost, nothing hangs.

One batch holds a known-good article beside every case of the bad-input
catalogue (../shared/docs/security.md), plus a canary folder outside the
workspace and a loopback web server that counts requests. Each case asserts
the exact message a user sees; the batch asserts that the good leaflet was
still built, that no PDF embeds a file, carries a secret or links anywhere
unsafe, and that nothing was fetched.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner, Result

from handouts.cli import cli

from .conftest import CONFIG_YAML

SECRET = "CANARY-SECRET-4242"
GOOD = (
    "---\ntitle: Good article\nauthor: Ward 9\nsource: Testshire Hospitals\n"
    "source_url: https://www.testshire.example/good\ndate: 2025-06-01\n---\n"
    "Wash your hands before you touch your wound.\n"
)


def md(front: str, body: str = "Some text.") -> str:
    return f"---\n{front}---\n{body}\n"


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(SECRET.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def _cases(root: Path, url: str) -> dict[str, str | bytes]:
    """File name → content for every case that is a file of its own."""
    from PIL import Image

    Image.new("1", (10000, 10000)).save(root / "content" / "bomb.png", optimize=True)
    os.mkfifo(root / "content" / "pipe.png")
    (root / "content" / "escape.svg").symlink_to(root.parent / "outside" / "secret.svg")
    return {
        # A. Front matter and YAML
        "a01.md": md("title: T\nx: !!python/object/apply:os.system ['touch /tmp/pwned']\n"),
        "a02.md": md("title: T\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"),
        "a03.md": md("title: One\ntitle: Two\n"),
        "a05.md": md("title: T\ndate: 2024-13-45\n"),
        "a07.md": md("title: Foo: Bar\n"),
        "a08.md": "---\ntitle: T\nNo closing fence\n",
        "a11.md": md("- a\n- b\n"),
        "a12.md": md("author: Someone\n"),
        "a13.md": md("title: T\nseo:\n\tkey: x\n"),
        "a14.md": md("title: T\nx: " + "[" * 1000 + "]" * 1000 + "\n"),
        "a15.md": md('title: "a\\ud800b"\n'),
        "a16.md": "---\ntitle: T\n---\nNUL \x00 here\n",
        # B. Encoding and size
        "b01.md": b"---\ntitle: T\n---\nCaf\xe9\n",
        "b03.md": "   \n\n",
        "b04.md": md("title: T\n", "x" * 3_000_000),
        # C. Markdown and HTML
        "c01.md": md(
            "title: C01\n", '<link rel="attachment" href="file:///etc/hostname">\n\nText.'
        ),
        "c02.md": md(
            "title: C02\n", f'<a rel="attachment" href="{root.parent}/outside/secret.txt">x</a>'
        ),
        "c04.md": md("title: C04\n", '<img src="file:///etc/hostname" alt="x">\n\nText.'),
        "c05.md": md("title: C05\n", "![x](../../outside/secret.svg)\n\nText."),
        "c06.md": md("title: C06\n", "![x](escape.svg)\n\nText."),
        "c07.md": md("title: C07\n", '<base href="file:///etc/">\n\n![x](hostname)\n\nText.'),
        "c08.md": md(
            "title: C08\n",
            f"<style>@import url({url}/a.css); p {{ background: url({url}/b.png) }}</style>\n\nText.",
        ),
        "c09.md": md(
            "title: C09\n", f"![x]({url}/ssrf.png) ![y](http://169.254.169.254/latest)\n\nText."
        ),
        "c10.md": md("title: C10\n", "![x](../../../../../../../../dev/zero)\n\nText."),
        "c11.md": md("title: C11\n", "![x](pipe.png)\n\nText."),
        "c12.md": md(
            "title: C12\n",
            '<script>alert(1)</script><img src=x onerror="alert(1)"><svg onload="alert(1)"></svg>\n\nText.',
        ),
        "c13.md": md(
            "title: C13\n",
            "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](java&#x09;script:alert(1)) [d](file:///etc/passwd) [e](data:text/html,hi)",
        ),
        "c14.md": md("title: C14\n", "[d](../../../etc/passwd) [e](/etc/passwd)"),
        "c15.md": md("title: C15\n", "<div>" * 200 + "x" + "</div>" * 200),
        "c18.md": md("title: C18\n", "![bomb](bomb.png)\n\nText."),
        "c20.md": md("title: C20\n", '<p style="font-size:1000000px">Huge?</p>'),
        # D. Templates
        "d01.md": md('title: "Hi</title><link rel=attachment href=file:///etc/hostname>"\n'),
        "d02.md": md("title: D02\n", "{{ cycler.__init__.__globals__.os.getcwd() }}"),
        "d04.md": md("title: 2024\nauthor: yes\n"),
        "d05.md": md("title:\n"),
        "d06.md": md("title: D06\nkeywords: a, b\n"),
        # E. Output names
        "e01.md": md("title: E01\nslug: ../../etc/passwd\n"),
        "e02.md": md("title: E02\nslug: ..\n"),
        "CON.md": md("title: Reserved name\n"),
        "good.md": GOOD,
    }


ERRORS = {
    "a01.md": "content/a01.md:3: unsupported YAML tag '!!python/object/apply:os.system'; remove it and write plain text",
    "a02.md": "content/a02.md:3: YAML aliases (*name) are not allowed; write the value out in full",
    "a03.md": "content/a03.md:3: duplicate key 'title'; keep one of them",
    "a05.md": "content/a05.md:3: invalid date '2024-13-45' in 'date'; write it as YYYY-MM-DD, e.g. 2025-09-22",
    "a07.md": "content/a07.md:2:11: invalid YAML: mapping values are not allowed in this context (if a value contains ': ', put the value in quotes)",
    "a08.md": "content/a08.md:1: front matter is not closed: add a line '---' after the last field",
    "a11.md": "content/a11.md:2: front matter must be a mapping of 'key: value' lines, not a list",
    "a12.md": "content/a12.md:1: missing required field 'title'; add 'title: …' to the front matter",
    "a13.md": "content/a13.md:4:1: invalid YAML: found character that cannot start any token (indent with spaces, not tabs)",
    "a14.md": "content/a14.md:3: YAML is nested more than 32 levels deep",
    "a15.md": "content/a15.md:2:12: invalid YAML: found invalid Unicode character escape code",
    "a16.md": "content/a16.md:4: control character U+0000 in the text; delete it and save again",
    "b01.md": "content/b01.md:4:4: not valid UTF-8 (byte 0xE9); re-save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8)",
    "b03.md": "content/b03.md: the file is empty; there is nothing to make a leaflet from",
    "b04.md": "content/b04.md: too large for a leaflet (3,001 kB; the limit is 2,000 kB): split it into several articles, or raise leaflets.max_article_kb in handouts.yaml",
    "d05.md": "content/d05.md:1: missing required field 'title'; add 'title: …' to the front matter",
}  # fmt: skip

WARNINGS = {
    "c01.md": "removed HTML that leaflets do not allow: <link>",
    "c04.md": "removed 1 link(s) or image(s) that cannot be used in a leaflet (only http, https, mailto and tel links, and images in the workspace): 'file:///etc/hostname'",
    "c05.md": "blocked '{outside}/secret.svg': outside the workspace",
    "c06.md": "blocked '{content}/escape.svg': a link to a file outside the workspace",
    "c07.md": "removed HTML that leaflets do not allow: <base>",
    "c08.md": "removed HTML that leaflets do not allow: <style>",
    "c09.md": "removed 2 link(s) or image(s) that cannot be used in a leaflet (only http, https, mailto and tel links, and images in the workspace): '{url}/ssrf.png', 'http://169.254.169.254/latest'",
    "c10.md": "blocked '/dev/zero': outside the workspace",
    "c11.md": "blocked '{content}/pipe.png': not a regular file",
    "c12.md": "removed HTML that leaflets do not allow: <script>, <svg>",
    "c13.md": "removed 5 link(s) or image(s) that cannot be used in a leaflet (only http, https, mailto and tel links, and images in the workspace): 'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java%09script:alert(1)' …",
    "c15.md": "removed HTML that leaflets do not allow: <div>",
    "c14.md": "removed 2 link(s) or image(s) that cannot be used in a leaflet (only http, https, mailto and tel links, and images in the workspace): '../../../etc/passwd', '/etc/passwd'",
    "c18.md": "blocked '{content}/bomb.png': image is 100 Mpx (limit 25 Mpx); use a smaller copy",
}  # fmt: skip


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, server: str) -> tuple[Path, Result]:
    base = tmp_path_factory.mktemp("hostile")
    root = base / "ws"
    (root / "content").mkdir(parents=True)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text(SECRET)
    (base / "outside" / "secret.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><title>{SECRET}</title></svg>'
    )
    (root / "handouts.yaml").write_text(CONFIG_YAML)
    for name, content in _cases(root, server).items():
        path = root / "content" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, ["build", "--no-pack", "-j", "2"])
    finally:
        os.chdir(cwd)
    return root, result


def test_batch_fails_without_a_traceback_and_good_article_is_built(
    batch: tuple[Path, Result],
) -> None:
    root, result = batch
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (root / "output" / "good.pdf").stat().st_size > 1000
    summary = result.stdout.splitlines()[-1]
    assert f"; {len(ERRORS)} failed: " in summary


@pytest.mark.parametrize(("name", "message"), ERRORS.items(), ids=list(ERRORS))
def test_each_bad_file_gets_its_one_line_error(
    batch: tuple[Path, Result], name: str, message: str
) -> None:
    assert f"error: {message}" in batch[1].stderr.splitlines()
    assert not (batch[0] / "output" / f"{Path(name).stem}.pdf").exists()


@pytest.mark.parametrize(("name", "message"), WARNINGS.items(), ids=list(WARNINGS))
def test_each_unsafe_part_is_removed_with_a_warning(
    batch: tuple[Path, Result], server: str, name: str, message: str
) -> None:
    root = batch[0]
    expected = message.format(url=server, outside=root.parent / "outside", content=root / "content")
    lines = [
        line for line in batch[1].stderr.splitlines() if line.startswith(f"warning: content/{name}")
    ]
    assert any(line.endswith(expected) for line in lines), lines
    assert (root / "output" / f"{Path(name).stem}.pdf").exists()


def test_yaml_values_keep_the_authors_text(batch: tuple[Path, Result]) -> None:
    with pikepdf.open(batch[0] / "output" / "d04.pdf") as pdf:
        assert str(pdf.docinfo["/Title"]) == "2024"
        assert str(pdf.docinfo["/Author"]) == "yes"
    with pikepdf.open(batch[0] / "output" / "d06.pdf") as pdf:
        assert str(pdf.docinfo["/Keywords"]) == "a, b"


def test_injected_title_is_shown_literally(batch: tuple[Path, Result]) -> None:
    with pikepdf.open(batch[0] / "output" / "d01.pdf") as pdf:
        assert str(pdf.docinfo["/Title"]).startswith("Hi</title><link rel=attachment")


def test_output_names_are_safe(batch: tuple[Path, Result]) -> None:
    names = sorted(p.name for p in (batch[0] / "output").glob("*.pdf"))
    assert "etc-passwd.pdf" in names
    assert any(re.fullmatch(r"article-[0-9a-f]{8}\.pdf", n) for n in names)
    assert "con-leaflet.pdf" in names
    assert all(re.fullmatch(r"[a-z0-9-]{1,80}\.pdf", n) for n in names)


def test_no_pdf_embeds_a_file_a_secret_or_an_unsafe_link(
    batch: tuple[Path, Result], server: str
) -> None:
    assert _Counter.hits == 0  # nothing was fetched from the network
    for path in (batch[0] / "output").glob("*.pdf"):
        with pikepdf.open(path) as pdf:
            assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
            assert not pdf.attachments
            for page in pdf.pages:
                for annot in page.get("/Annots", []):
                    assert annot.get("/Subtype") != "/FileAttachment"
                    uri = str(annot.get("/A", {}).get("/URI", "https://ok"))
                    assert uri.startswith(("https://", "http://", "mailto:", "tel:")), uri
                    assert str(batch[0]) not in uri
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    data = obj.read_bytes()
                    assert SECRET.encode() not in data, path.name
                    assert str(batch[0]).encode() not in data  # no build paths leak


def test_nothing_was_written_outside_the_output_folder(batch: tuple[Path, Result]) -> None:
    root = batch[0]
    assert not Path("/tmp/pwned").exists()
    outside = sorted(p.name for p in (root.parent / "outside").iterdir())
    assert outside == ["secret.svg", "secret.txt"]
    made = {p.relative_to(root).parts[0] for p in root.rglob("*") if p.is_file()}
    assert made == {"content", "output", "handouts.yaml"}
