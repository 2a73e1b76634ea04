"""The data that flows through the pipeline: frozen, typed, and free of I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Level = Literal["warning", "error"]
Shape = Literal["text", "cms", "markdown"]


@dataclass(frozen=True)
class Finding:
    """Something a user should know about one file: a warning or an error."""

    path: str
    """The file, as the user would type it (relative to the workspace where possible)."""
    message: str
    """What is wrong and, where it helps, how to fix it."""
    line: int | None = None
    """1-based line in the file, when there is one."""
    level: Level = "warning"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Variant:
    """One way of printing a leaflet: its size of type and of paper."""

    large_print: bool = False
    """Re-flowed at 18 pt for people with low vision (UKAAF), never scaled up."""
    paper: str = "A4"

    def stem(self, slug: str, default_paper: str) -> str:
        """The output name: ``flu``, ``flu-large-print``, ``flu-a5``, ``flu-large-print-a5``."""
        stem = slug + ("-large-print" if self.large_print else "")
        if self.paper != default_paper:
            stem += f"-{self.paper.lower()}"
        return stem


@dataclass(frozen=True)
class Organisation:
    """Who hands the leaflet out: printed in the header and footer of every page."""

    name: str = "Patient information"
    department: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    address: str = ""
    logo: Path | None = None
    """Absolute path of the logo image, inside the workspace."""


@dataclass(frozen=True)
class PackSpec:
    """A leaflet pack: the leaflets a patient takes home, printed as one PDF."""

    name: str
    """Safe file-name stem: the pack is written to ``<output>/<name>.pdf``."""
    title: str
    articles: tuple[str, ...]
    """Article slugs or glob patterns (``going-home-*``), in the order they are printed."""
    note: str | None = None
    """Printed on the cover (e.g. "Bring this pack to your follow-up appointment")."""
    duplex: bool = False
    """Start every leaflet on a right-hand page, for double-sided printing."""
    large_print: bool = False
    """Also make the pack in large print (``<name>-large-print.pdf``)."""
    line: int | None = None
    """Line of the pack in handouts.yaml, for error messages."""


@dataclass(frozen=True)
class Article:
    """One health article, read and cleaned, ready to be laid out as a leaflet."""

    source_path: Path
    """The file the article was read from."""
    slug: str
    """Safe file-name stem: the leaflet is written to ``<output>/<slug>.pdf``."""
    title: str
    body_html: str
    """The article body as sanitised HTML: safe to insert into a template unescaped."""
    shape: Shape
    """Which kind of file it came from: pasted text, a CMS export, or Markdown."""
    author: str | None = None
    reviewer: str | None = None
    source: str | None = None
    """The publisher the article came from (e.g. a health website)."""
    source_url: str | None = None
    """Absolute http(s) link to the original; ``None`` rather than a broken link."""
    online_url: str | None = None
    """The organisation's own online version, if any: what the QR code points to."""
    published: dt.date | None = None
    review_due: dt.date | None = None
    """Front matter's date, else ``published`` plus the configured review period."""
    language: str = "en"
    """BCP 47 language tag of the text (drives ``lang``, hyphenation, labels)."""
    summary: str | None = None
    keywords: tuple[str, ...] = ()
    subject: str | None = None
    related: tuple[str, ...] = ()
    """Titles of related articles listed by the publisher, de-duplicated."""
    template: str | None = None
    """Template the article asks for; ``None`` means the workspace default."""
    large_print: bool = False
    """Also make this leaflet in large print (``<slug>-large-print.pdf``)."""
    warnings: tuple[Finding, ...] = field(default=())
    """What reading and cleaning changed or could not work out."""
