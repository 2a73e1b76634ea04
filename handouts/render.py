"""Lay an Article into a Jinja2 HTML template: the HTML that becomes a PDF.

A template is a folder under ``templates/`` holding ``leaflet.html`` (Jinja2)
and any ``*.css`` beside it. The workspace's ``templates/`` is searched first,
then the built-in templates, so a workspace can override ``leaflet`` or add
its own. Article text is data, never template source: autoescape is on and the
sanitised body is the only markup passed through.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import babel
import babel.dates
import jinja2
from markupsafe import Markup, escape

from . import __version__
from .config import Config
from .errors import ContentError, TemplateError
from .model import Article, Variant

ENTRY = "leaflet.html"
"""The file that makes a folder under templates/ a leaflet template."""
PACK_ENTRY = "pack.html"
"""A template's cover and contents for leaflet packs; ``leaflet``'s is used if absent."""

LABELS_DIR = "labels"
"""Folder under templates/ holding one ``<language>.yaml`` of printed words per language."""
FALLBACK_LANGUAGE = "en"
_TRADITIONAL_CHINESE = {"hant", "tw", "hk", "mo"}


@dataclass(frozen=True)
class Labels:
    """The words templates print, in one language, and how that language is written."""

    language: str
    """The catalogue used (``zh-Hans``), which may be less specific than the article's tag."""
    texts: dict[str, str]
    locale: babel.Locale
    """How dates are written."""
    direction: str
    """``ltr`` or ``rtl``: the direction of the article's language."""
    warning: str | None = None
    """Set when no catalogue matched the article's language and English was used."""


def label_catalogues(config: Config) -> dict[str, Path]:
    """Label files by lower-case language tag; the workspace's override the built-in ones."""
    found: dict[str, Path] = {}
    for root in reversed(template_roots(config)):
        for path in sorted((root / LABELS_DIR).glob("*.yaml")):
            found[path.stem.lower()] = path
    return found


def _candidates(language: str) -> list[str]:
    parts = language.lower().replace("_", "-").split("-")
    tags = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if parts[0] == "zh":
        if _TRADITIONAL_CHINESE & set(parts[1:]):
            # Simplified characters are not the right answer for a Traditional reader.
            return [t for t in tags if t != "zh"]
        tags.append("zh-hans")
    return tags


def load_labels(language: str, config: Config) -> Labels:
    """The catalogue that best matches ``language``, falling back to English with a warning."""
    catalogues = label_catalogues(config)
    chosen = next((t for t in _candidates(language) if t in catalogues), None)
    warning = None
    if chosen is None:
        warning = (
            f"no printed labels for language '{language}', so they are in English; "
            f"add templates/{LABELS_DIR}/{language}.yaml to translate them"
        )
        chosen = FALLBACK_LANGUAGE
    texts = read_labels(catalogues[FALLBACK_LANGUAGE], config)
    if chosen != FALLBACK_LANGUAGE:
        texts = {**texts, **read_labels(catalogues[chosen], config)}
    label_locale = _locale(texts.get("locale", "en_GB")) or babel.Locale("en", "GB")
    article_locale = _locale(language)
    # An article tagged with a region (en-US) has its dates written that region's way.
    locale = article_locale if article_locale and article_locale.territory else label_locale
    script_locale = article_locale or label_locale
    direction = "rtl" if script_locale.character_order == "right-to-left" else "ltr"
    return Labels(catalogues[chosen].stem, texts, locale, direction, warning)


@functools.lru_cache(maxsize=64)
def _read_labels_cached(path: Path, mtime: float) -> dict[str, str]:
    from .frontmatter import decode, load_mapping

    data = load_mapping(decode(path.read_bytes(), str(path)), str(path)).data
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def read_labels(path: Path, config: Config) -> dict[str, str]:
    """The texts of one label catalogue file."""
    try:
        return _read_labels_cached(path, path.stat().st_mtime)
    except ContentError as err:
        raise TemplateError(f"{config.display(path)}: {err.problem}") from None


def _locale(tag: str) -> babel.Locale | None:
    try:
        return babel.Locale.parse(tag.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return None


def builtin_templates() -> Path:
    """Return the folder of the templates that ship with handouts."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():  # an installed wheel
        return packaged
    return Path(__file__).parent.parent / "templates"  # a source checkout


def template_roots(config: Config) -> list[Path]:
    """The folders templates are looked up in, workspace first."""
    roots = [config.workspace / "templates", builtin_templates().resolve()]
    unique: list[Path] = []
    for root in roots:
        if root.is_dir() and root.resolve() not in unique:
            unique.append(root.resolve())
    return unique


def available_templates(config: Config) -> list[str]:
    """Names of every template the workspace can use."""
    names = {
        entry.parent.name for root in template_roots(config) for entry in root.glob(f"*/{ENTRY}")
    }
    return sorted(names)


@dataclass(frozen=True)
class Template:
    """A resolved leaflet template."""

    name: str
    directory: Path
    stylesheets: tuple[Path, ...]


_EXTENDS = re.compile(r"""{%-?\s*extends\s+["']([\w-]+)/""" + re.escape(ENTRY) + """["']""")


def find_template(name: str, config: Config, _seen: tuple[str, ...] = ()) -> Template:
    """Resolve a template name; the error lists the templates that do exist.

    A template that extends another (``{% extends "leaflet/leaflet.html" %}``)
    gets the parent's stylesheets first, then its own, so a small template can
    restyle a few things without copying the whole stylesheet.
    """
    if name in _seen:
        raise TemplateError(f"Templates extend each other in a loop: {' → '.join(_seen)} → {name}")
    for root in template_roots(config):
        directory = root / name
        entry = directory / ENTRY
        if entry.is_file():
            own = tuple(sorted(directory.glob("*.css")))
            match = _EXTENDS.search(entry.read_text(encoding="utf-8"))
            if match is None:
                return Template(name, directory, own)
            parent = find_template(match.group(1), config, (*_seen, name))
            return Template(name, directory, parent.stylesheets + own)
    available = ", ".join(available_templates(config)) or "none"
    raise TemplateError(f"Template '{name}' not found. Available templates: {available}")


@dataclass(frozen=True)
class RenderedLeaflet:
    """HTML ready for the PDF stage, and what it needs to load."""

    html: str
    base_url: str
    """Relative URLs in the article (its images) resolve against its own folder."""
    template: Template
    warnings: tuple[str, ...] = ()


class Renderer:
    """Renders articles with one Jinja2 environment per workspace."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(r) for r in template_roots(config)]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["longdate"] = long_date
        self.env.filters["shorturl"] = short_url
        self.env.filters["cssstring"] = css_string
        self.env.filters["fill"] = fill
        self.env.filters["pagecounter"] = page_counter
        self._labels: dict[str, Labels] = {}

    def labels(self, language: str) -> Labels:
        """The label catalogue for ``language``, looked up once per build."""
        if language not in self._labels:
            self._labels[language] = load_labels(language, self.config)
        return self._labels[language]

    def base_context(self, labels: Labels, variant: Variant | None = None) -> dict[str, Any]:
        """What every template sees: organisation, branding, paper, labels, direction."""
        config = self.config
        variant = variant or Variant(paper=config.paper)
        return {
            "org": config.organisation,
            "logo_url": config.organisation.logo.as_uri() if config.organisation.logo else None,
            "brand_colour": config.brand_colour,
            "paper": variant.paper,
            "large_print": variant.large_print,
            "labels": labels.texts,
            "locale": labels.locale,
            "direction": labels.direction,
            "hyphenate": config.hyphenate,
            "generator": f"handouts {__version__}",
        }

    def render(
        self, article: Article, template: Template, variant: Variant | None = None
    ) -> RenderedLeaflet:
        """Return the leaflet HTML for ``article``, at the variant's paper and type size."""
        labels = self.labels(article.language)
        qr_url = article.online_url or article.source_url
        context = {
            **self.base_context(labels, variant),
            "article": article,
            "body": Markup(article.body_html),  # sanitised by the reader
            "qr_url": qr_url,
            "qr_svg": qr_svg(qr_url) if qr_url else None,
        }
        html = self.render_named(f"{template.name}/{ENTRY}", context)
        return RenderedLeaflet(
            html,
            article.source_path.parent.resolve().as_uri() + "/",
            template,
            (labels.warning,) if labels.warning else (),
        )

    def render_named(self, name: str, context: dict[str, Any]) -> str:
        """Render one template file; template mistakes become a one-line TemplateError."""
        config = self.config
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as err:
            where = _template_path(err.filename, config)
            raise TemplateError(f"{where}:{err.lineno}: {err.message}") from None
        except jinja2.TemplateError as err:
            where = _location(sys.exc_info()[2], config)
            raise TemplateError(f"{where}: {err.message or err}") from None


@dataclass(frozen=True)
class PackEntry:
    """One line of a pack's contents page."""

    title: str
    page: int | None
    """The pack page the leaflet starts on; ``None`` while the contents is being measured."""


class PackFront:
    """Renders the cover and contents page of leaflet packs."""

    def __init__(self, renderer: Renderer, template: Template) -> None:
        self.renderer = renderer
        self.template = template

    def render(
        self,
        *,
        title: str,
        note: str | None,
        printed: dt.date,
        entries: list[PackEntry],
        duplex: bool,
        language: str = "en",
        variant: Variant | None = None,
    ) -> str:
        name = f"{self.template.name}/{PACK_ENTRY}"
        if not (self.template.directory / PACK_ENTRY).is_file():
            name = f"leaflet/{PACK_ENTRY}"
        context = {
            **self.renderer.base_context(self.renderer.labels(language), variant),
            "title": title,
            "note": note,
            "printed": printed,
            "entries": entries,
            "duplex": duplex,
            "language": language,
        }
        return self.renderer.render_named(name, context)


@jinja2.pass_context
def long_date(context: jinja2.runtime.Context, day: dt.date | None) -> str:
    """Write a date in full, the local way: 22 September 2025, 2025年9月22日."""
    if day is None:
        return ""
    locale = context.get("locale") or "en_GB"
    return str(babel.dates.format_date(day, format="long", locale=locale))


@functools.lru_cache(maxsize=256)
def qr_svg(url: str) -> Markup:
    """A QR code for ``url`` as inline vector SVG, with the 4-module quiet zone it needs."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code"))


def fill(label: str, **values: Any) -> Markup:
    """Put values into a label's {placeholders}, escaping both (Markup values stay as they are)."""
    text = str(escape(label))
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(escape(value)))
    return Markup(text)


def page_counter(label: str) -> Markup:
    """A "Page {page} of {pages}" label as CSS ``content`` with page counters."""
    parts = []
    for part in re.split(r"(\{page\}|\{pages\})", label):
        if part == "{page}":
            parts.append("counter(page)")
        elif part == "{pages}":
            parts.append("counter(pages)")
        elif part:
            parts.append(str(css_string(part)))
    return Markup(" ".join(parts))


def short_url(url: str | None) -> str:
    """A link as printed on paper: no scheme, no trailing slash."""
    if not url:
        return ""
    parts = urlsplit(url)
    text = parts.netloc + parts.path
    if parts.query:
        text += "?" + parts.query
    return text.rstrip("/")


def css_string(text: str) -> Markup:
    """Quote ``text`` as a CSS string, safe inside a <style> element."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;-_!?()/" else f"\\{ord(ch):x} " for ch in str(text)
    )
    return Markup(f'"{escaped}"')


def _template_path(filename: str | None, config: Config) -> str:
    if not filename:
        return "template"
    return config.display(Path(filename))


def _location(tb: TracebackType | None, config: Config) -> str:
    """Find the template file and line Jinja2 was executing when it failed."""
    where = "template"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".html"):
            where = f"{_template_path(filename, config)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
