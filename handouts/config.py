"""The workspace configuration, ``handouts.yaml``: optional, validated all at once.

Every problem in the file is collected and reported together, each with its
line, so a communications team fixes the file in one pass rather than one
error per run. Unknown settings are warnings (usually a typo).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, ContentError, HandoutsError
from .frontmatter import YamlMapping, decode, load_mapping
from .model import Finding, Organisation, PackSpec

CONFIG_NAME = "handouts.yaml"
PAPER_SIZES = {"a4": "A4", "a5": "A5", "letter": "Letter", "us-letter": "Letter"}
"""Accepted spellings of each paper size, by lower-case name."""
DEFAULT_TEMPLATE = "leaflet"
DEFAULT_REVIEW_MONTHS = 36
"""Three years: the NHS design-pattern example and a common trust review cycle."""
PDF_VARIANTS = (
    "pdf/ua-1", "pdf/ua-2", "pdf/a-1a", "pdf/a-1b", "pdf/a-2a", "pdf/a-2b", "pdf/a-2u",
    "pdf/a-3a", "pdf/a-3b", "pdf/a-3u", "pdf/a-4e", "pdf/a-4f", "pdf/a-4u",
    "pdf/x-1a", "pdf/x-3", "pdf/x-4", "pdf/x-5g",
)  # fmt: skip
"""The PDF standards WeasyPrint can write (a test keeps this in step with WeasyPrint)."""
DEFAULT_PDF_VARIANT = "pdf/ua-1"
"""Tagged, accessible PDF (PDF/UA-1): screen readers, reflow, document language."""
DEFAULT_BRAND_COLOUR = "#005eb8"
"""NHS Blue (RGB 0/94/184)."""
LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")

_KNOWN: dict[str, tuple[str, ...]] = {
    "organisation": ("name", "department", "phone", "email", "website", "address", "logo"),
    "brand": ("colour", "color"),
    "sources": (),
    "leaflets": (
        "render_timeout",
        "memory_limit_mb",
        "max_pages",
        "max_article_kb",
        "template",
        "paper",
        "review_months",
        "duplex",
        "pdf_variant",
        "hyphenate",
        "max_reading_grade",
    ),
    "packs": (),
}
_PACK_KEYS = ("title", "articles", "note", "duplex", "large_print")
_PACK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
DEFAULT_PACK = "leaflet-pack"
"""The pack of every article, made when handouts.yaml declares no packs."""
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know about the workspace."""

    workspace: Path
    """Absolute path of the workspace folder: nothing outside it is read while rendering."""
    organisation: Organisation = field(default_factory=Organisation)
    brand_colour: str = DEFAULT_BRAND_COLOUR
    sources: Mapping[str, str] = field(default_factory=dict)
    """Publisher base URLs, keyed by lower-case publisher name."""
    template: str = DEFAULT_TEMPLATE
    """The default template for articles that do not name one."""
    paper: str = "A4"
    review_months: int = DEFAULT_REVIEW_MONTHS
    duplex: bool = False
    """Start each leaflet in a pack on a right-hand page (double-sided printing)."""
    pdf_variant: str | None = DEFAULT_PDF_VARIANT
    """The PDF standard written; ``None`` for plain, untagged PDF."""
    render_timeout: float = 60.0
    """Seconds one leaflet may take to lay out before it is stopped and reported."""
    memory_limit_mb: int = 2048
    """Memory one rendering process may use (0: no limit)."""
    max_pages: int = 60
    """A leaflet laid out as more pages than this is refused (a runaway article)."""
    max_article_kb: int = 2000
    """Article files larger than this are refused before they are read."""
    max_reading_grade: float = 8.0
    """Warn when an English article's Flesch–Kincaid grade is above this (NIH, CDC: 8)."""
    hyphenate: bool = False
    """Break words at line ends with hyphens, by the article's language.

    Off by default: clear-print guidance (RNIB, UKAAF) asks for whole words,
    which people with low vision or low literacy read more easily.
    """
    packs: tuple[PackSpec, ...] = ()
    """Packs declared in handouts.yaml; empty means one pack of every article."""
    output_dir: Path | None = None
    """Where PDFs go; ``None`` means ``<workspace>/output``."""
    path: Path | None = None
    """The config file read, or ``None`` when the defaults are used."""
    warnings: tuple[Finding, ...] = ()

    @property
    def content_dir(self) -> Path:
        return self.workspace / "content"

    @property
    def output(self) -> Path:
        return self.output_dir if self.output_dir is not None else self.workspace / "output"

    def display(self, path: Path) -> str:
        """Return ``path`` as a user would type it (see :func:`display_path`)."""
        return display_path(path)

    def source_base(self, publisher: str | None) -> str | None:
        """Return the configured base URL of ``publisher``, if any."""
        if not publisher:
            return None
        return self.sources.get(publisher.strip().lower())


def load_config(
    workspace: str | Path = ".",
    *,
    output: str | Path | None = None,
    template: str | None = None,
    pdf_variant: str | None = None,
) -> Config:
    """Read ``<workspace>/handouts.yaml`` (if present) and apply command-line overrides.

    Raises :class:`ConfigError` listing every problem in the file.
    """
    root = Path(workspace).resolve()
    if not root.is_dir():
        raise ConfigError([f"workspace folder '{workspace}' does not exist"], path=workspace)
    config_path = root / CONFIG_NAME
    values: dict[str, Any] = {}
    warnings: list[Finding] = []
    shown = display_path(config_path)
    if config_path.is_file():
        try:
            text = decode(config_path.read_bytes(), shown)
            mapping = load_mapping(text, shown)
        except ContentError as err:
            raise ConfigError([err.message], path=shown) from None
        values, warnings = _validate(mapping, root, shown)
    if output is not None:
        values["output_dir"] = Path(output).resolve()
    if template is not None:
        values["template"] = template
    if pdf_variant is not None:
        try:
            values["pdf_variant"] = parse_pdf_variant(pdf_variant) or None
        except ValueError:
            raise HandoutsError(
                f"Unknown PDF variant '{pdf_variant}'; "
                f"expected one of: {', '.join(PDF_VARIANTS)} or none"
            ) from None
    return Config(
        workspace=root,
        path=config_path if config_path.is_file() else None,
        warnings=tuple(warnings),
        **values,
    )


def display_path(path: Path) -> str:
    """``path`` as a user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Checker:
    """Collects problems with their lines instead of stopping at the first."""

    def __init__(self, mapping: YamlMapping, shown: str) -> None:
        self.mapping = mapping
        self.shown = shown
        self.errors: list[str] = []
        self.warnings: list[Finding] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.shown}:{self.mapping.line(key)}: {key}: {message}")

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Finding(self.shown, f"{key}: {message}", self.mapping.line(key)))

    def section(self, name: str) -> dict[str, Any]:
        value = self.mapping.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(name, "expected a mapping of 'key: value' lines")
            return {}
        known = _KNOWN[name]
        if known:
            for key in value:
                if key not in known:
                    self.warn(f"{name}.{key}", f"unknown setting (known: {', '.join(known)})")
        return value

    def text(self, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(key, "expected text")
            return None
        return value.strip()

    def choice(self, key: str, value: Any, parse: Callable[[str], Any], hint: str) -> Any:
        text = self.text(key, value)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError:
            self.error(key, f"{hint} (got '{text}')")
            return None


def _validate(mapping: YamlMapping, root: Path, shown: str) -> tuple[dict[str, Any], list[Finding]]:
    check = _Checker(mapping, shown)
    for key in mapping.data:
        if key not in _KNOWN:
            check.warn(key, f"unknown setting (known: {', '.join(_KNOWN)})")
    values: dict[str, Any] = {}

    org = check.section("organisation")
    org_values: dict[str, Any] = {}
    for key in ("name", "department", "phone", "email", "website", "address"):
        if (text := check.text(f"organisation.{key}", org.get(key))) is not None:
            org_values[key] = text
    if (logo := check.text("organisation.logo", org.get("logo"))) is not None:
        org_values["logo"] = _logo(check, root, logo)
    values["organisation"] = Organisation(**org_values)

    brand = check.section("brand")
    colour_key = "brand.colour" if "colour" in brand else "brand.color"
    colour = check.text(colour_key, brand.get("colour", brand.get("color")))
    if colour is not None:
        if _HEX_COLOUR.fullmatch(colour):
            values["brand_colour"] = colour.lower()
        else:
            check.error(colour_key, f"expected a hex colour such as \"#005eb8\" (got '{colour}')")

    sources: dict[str, str] = {}
    for name, entry in check.section("sources").items():
        key = f"sources.{name}"
        url = entry.get("url") if isinstance(entry, dict) else entry
        if not isinstance(url, str) or not url.strip():
            check.error(key, "expected 'url: https://…', the publisher's web address")
            continue
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            check.error(key, f"url must start with https:// or http:// (got '{url}')")
            continue
        sources[name.strip().lower()] = url.strip().rstrip("/")
    values["sources"] = sources

    leaflets = check.section("leaflets")
    if (template := check.text("leaflets.template", leaflets.get("template"))) is not None:
        values["template"] = template
    for name, parse, hint in _leaflet_settings():
        value = check.choice(f"leaflets.{name}", leaflets.get(name), parse, hint)
        if value is not None:
            values[name] = value
    if values.get("pdf_variant") == "":
        values["pdf_variant"] = None  # "none": a plain, untagged PDF
    values["packs"] = _packs(check, values.get("duplex", False))

    if check.errors:
        raise ConfigError(check.errors, path=shown)
    return values, check.warnings


def parse_paper(text: str) -> str:
    """Return the canonical paper name for ``text`` ("a4" → "A4"); ValueError if unknown."""
    try:
        return PAPER_SIZES[text.strip().lower().replace(" ", "-")]
    except KeyError:
        raise ValueError(text) from None


def _leaflet_settings() -> tuple[tuple[str, Callable[[str], Any], str], ...]:
    return (
        ("paper", parse_paper, "expected one of: A4, A5, Letter"),
        ("review_months", _months, "expected a whole number of months from 1 to 120"),
        ("pdf_variant", parse_pdf_variant, f"expected one of: {', '.join(PDF_VARIANTS)} or none"),
        ("render_timeout", _positive_float, "expected a number of seconds above 0"),
        ("memory_limit_mb", _non_negative_int, "expected a whole number of MB (0: no limit)"),
        ("max_pages", _positive_int, "expected a whole number of pages above 0"),
        ("max_article_kb", _positive_int, "expected a whole number of kB above 0"),
        ("max_reading_grade", _grade, "expected a school grade from 1 to 20"),
        ("hyphenate", parse_bool, "expected true or false"),
        ("duplex", parse_bool, "expected true or false"),
    )


def parse_pdf_variant(text: str) -> str:
    """A WeasyPrint PDF variant name, or "" for plain PDF; ValueError if unknown."""
    lowered = text.strip().lower()
    if lowered in ("none", "plain", ""):
        return ""
    if lowered not in PDF_VARIANTS:
        raise ValueError(text)
    return lowered


def parse_bool(text: str) -> bool:
    """Read a yes/no setting; ValueError if it is neither."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    raise ValueError(text)


def _packs(check: _Checker, duplex_default: bool) -> tuple[PackSpec, ...]:
    packs = []
    for name, entry in check.section("packs").items():
        key = f"packs.{name}"
        if not _PACK_NAME.fullmatch(name):
            check.error(key, "pack names must be lower-case letters, digits, - or _")
            continue
        if not isinstance(entry, dict):
            check.error(key, "expected 'title:', 'articles:' and optionally 'note:' and 'duplex:'")
            continue
        for field_name in entry:
            if field_name not in _PACK_KEYS:
                check.warn(
                    f"{key}.{field_name}", f"unknown setting (known: {', '.join(_PACK_KEYS)})"
                )
        articles = entry.get("articles")
        if isinstance(articles, str):
            articles = [articles]
        if (
            not articles
            or not isinstance(articles, list)
            or not all(isinstance(a, str) and a.strip() for a in articles)
        ):
            check.error(
                f"{key}.articles" if "articles" in entry else key,
                "expected a list of article names (slugs) or patterns such as going-home-*",
            )
            continue
        title = (
            check.text(f"{key}.title", entry.get("title")) or name.replace("-", " ").capitalize()
        )
        duplex = check.choice(
            f"{key}.duplex", entry.get("duplex"), parse_bool, "expected true or false"
        )
        large = check.choice(
            f"{key}.large_print", entry.get("large_print"), parse_bool, "expected true or false"
        )
        packs.append(
            PackSpec(
                name=name,
                title=title,
                articles=tuple(a.strip() for a in articles),
                note=check.text(f"{key}.note", entry.get("note")),
                duplex=duplex_default if duplex is None else duplex,
                large_print=bool(large),
                line=check.mapping.line(key),
            )
        )
    return tuple(packs)


def _positive_float(text: str) -> float:
    number = float(text)
    if not number > 0:
        raise ValueError
    return number


def _positive_int(text: str) -> int:
    number = int(text)
    if number <= 0:
        raise ValueError
    return number


def _non_negative_int(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError
    return number


def _grade(text: str) -> float:
    number = float(text)
    if not 1 <= number <= 20:
        raise ValueError
    return number


def _months(text: str) -> int:
    number = int(text)
    if not 1 <= number <= 120:
        raise ValueError
    return number


def _logo(check: _Checker, root: Path, logo: str) -> Path | None:
    path = (root / logo).resolve()
    if not path.is_relative_to(root):
        check.error("organisation.logo", f"'{logo}' is outside the workspace; copy it inside")
        return None
    if not path.is_file():
        check.error("organisation.logo", f"file '{logo}' does not exist")
        return None
    if path.suffix.lower() not in LOGO_SUFFIXES:
        check.error("organisation.logo", f"'{logo}' must be an SVG, PNG or JPEG image")
        return None
    return path
