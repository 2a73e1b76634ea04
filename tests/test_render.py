"""Rendering articles into template HTML: golden files, escaping, template errors."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from handouts import __version__
from handouts.config import Config, load_config
from handouts.errors import TemplateError
from handouts.readers import read_article
from handouts.render import Renderer, available_templates, css_string, find_template

from .conftest import REPO, WriteFile

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = sorted((REPO / "content").iterdir())


def normalise(html: str, config: Config) -> str:
    """Remove what differs between machines and releases, nothing else."""
    return html.replace(config.workspace.as_uri(), "WORKSPACE").replace(
        f"handouts {__version__}", "handouts VERSION"
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_html_matches_golden(sample: Path, update_golden: bool) -> None:
    config = load_config(REPO)
    article = read_article(sample, config)
    leaflet = Renderer(config).render(article, find_template("leaflet", config))
    html = normalise(leaflet.html, config)
    golden = GOLDEN / f"{article.slug}.html"
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(html, encoding="utf-8")
        pytest.skip("golden file rewritten")
    assert golden.is_file(), f"no golden file; run: pytest --update-golden -k {sample.name}"
    expected = golden.read_text(encoding="utf-8")
    if html != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), html.splitlines(True), str(golden), "rendered"
            )
        )
        pytest.fail(f"HTML differs from the golden file (pytest --update-golden):\n{diff}")


def test_article_text_is_escaped_not_markup(write: WriteFile, config: Config) -> None:
    path = write(
        "inject.md",
        '---\ntitle: "Hi</title><link rel=attachment href=file:///etc/hostname>"\n'
        'author: "{{ cycler.__init__.__globals__.os.getcwd() }}"\n---\nBody\n',
    )
    html = (
        Renderer(config).render(read_article(path, config), find_template("leaflet", config)).html
    )
    assert "<title>Hi&lt;/title&gt;&lt;link rel=attachment" in html
    assert "<link rel=attachment" not in html
    assert "{{ cycler.__init__.__globals__.os.getcwd() }}" in html  # printed, never run


def test_unknown_template_lists_the_available_ones(config: Config) -> None:
    with pytest.raises(TemplateError) as caught:
        find_template("fancy", config)
    assert caught.value.message == "Template 'fancy' not found. Available templates: leaflet"


def test_workspace_template_overrides_and_extends(workspace: Path, config: Config) -> None:
    custom = workspace / "templates" / "plain"
    custom.mkdir(parents=True)
    (custom / "leaflet.html").write_text('{% extends "leaflet/leaflet.html" %}', encoding="utf-8")
    (custom / "plain.css").write_text("html { font-size: 18pt; }")
    assert available_templates(config) == ["leaflet", "plain"]
    plain = find_template("plain", config)
    assert plain.directory == custom
    # The parent's stylesheet first, then the template's own.
    assert [p.name for p in plain.stylesheets] == ["leaflet.css", "plain.css"]


def test_templates_extending_each_other_in_a_loop(workspace: Path, config: Config) -> None:
    for name, parent in (("a", "b"), ("b", "a")):
        (workspace / "templates" / name).mkdir(parents=True)
        (workspace / "templates" / name / "leaflet.html").write_text(
            f'{{% extends "{parent}/leaflet.html" %}}'
        )
    with pytest.raises(TemplateError, match="Templates extend each other in a loop: a → b → a"):
        find_template("a", config)


def render_with_template(workspace: Path, config: Config, write: WriteFile, source: str) -> None:
    """Render a one-line article with a workspace template 'broken' holding ``source``."""
    broken = workspace / "templates" / "broken"
    broken.mkdir(parents=True)
    (broken / "leaflet.html").write_text(source)
    article = read_article(write("a.md", "---\ntitle: T\n---\nText\n"), config)
    Renderer(config).render(article, find_template("broken", config))


def test_template_typo_names_file_and_line(
    workspace: Path, config: Config, write: WriteFile
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_with_template(
            workspace, config, write, "<h1>{{ article.title }}</h1>\n<p>{{ athor }}</p>\n"
        )
    assert caught.value.message == "templates/broken/leaflet.html:2: 'athor' is undefined"


def test_template_syntax_error_names_file_and_line(
    workspace: Path, config: Config, write: WriteFile
) -> None:
    with pytest.raises(TemplateError, match=r"^templates/broken/leaflet.html:2: Unexpected end"):
        render_with_template(workspace, config, write, "<p>\n{% if x %}\n")


def test_init_copies_templates_that_render(tmp_path: Path) -> None:
    from handouts import init_workspace

    init_workspace(tmp_path / "new")
    config = load_config(tmp_path / "new")
    assert (tmp_path / "new" / "templates" / "fonts" / "OFL.txt").is_file()
    assert (
        find_template("leaflet", config).directory
        == (tmp_path / "new" / "templates" / "leaflet").resolve()
    )


def test_css_string_cannot_break_out_of_a_style_element() -> None:
    assert css_string('Page</style>"') == '"Page\\3c /style\\3e \\22 "'
