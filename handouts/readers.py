"""Read article files of every shape into one :class:`Article`.

Three shapes arrive in practice, and file endings lie about which is which
(a CMS export is often saved as ``.txt``), so the shape is read from the
content:

* **CMS export** — YAML front matter holding everything; the text is the
  ``answer`` field, Markdown with literal ``\\n`` escapes.
* **Markdown** — YAML front matter with our own fields, Markdown body; or no
  front matter and a first line ``# Title``.
* **Plain text** pasted from a website — a title line, a date/publisher line,
  an author line, short heading lines, paragraphs, and web cruft.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from .config import Config, parse_bool
from .errors import ContentError
from .frontmatter import YamlMapping, decode, load_mapping, split_front_matter
from .markup import markdown_to_html
from .model import Article, Finding, Shape

SUFFIXES = (".md", ".markdown", ".txt")
"""File endings read as articles when a folder is built."""
MAX_SLUG = 80
MAX_TITLE = 200

MARKDOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "author": ("author", "authors"),
    "reviewer": ("reviewer", "reviewed_by"),
    "date": ("date", "published"),
    "source": ("source", "publisher"),
    "source_url": ("source_url", "url"),
    "online_url": ("online_url",),
    "review_due": ("review_due", "next_review"),
    "language": ("language", "lang"),
    "summary": ("summary", "description"),
    "keywords": ("keywords", "tags"),
    "subject": ("subject",),
    "template": ("template",),
    "slug": ("slug",),
    "large_print": ("large_print",),
    "date_format": ("date_format",),
}
"""Front-matter fields of the Markdown shape, each with the spellings accepted."""

CMS_KEYS = frozenset({
    "_schema", "id", "date", "title", "article_title", "date_format", "post_on_text", "seo",
    "author", "question", "answer", "subject", "file_name", "url", "score", "source",
    "publisher", "template", "language", "review_due",
})  # fmt: skip
"""Fields a content-management export carries; related_articleN come on top."""

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = (
    rf"(?:{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d")
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*")
_TEMPLATE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")


def read_article(path: str | Path, config: Config) -> Article:
    """Read one article file; raise :class:`ContentError` naming the file (and line)."""
    path = Path(path)
    shown = config.display(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ContentError(shown, "not a regular file")
        limit = config.max_article_kb * 1000
        if size > limit:
            raise ContentError(
                shown,
                f"too large for a leaflet ({-(-size // 1000):,} kB; the limit is "
                f"{config.max_article_kb:,} kB): split it into several articles, or raise "
                "leaflets.max_article_kb in handouts.yaml",
            )
        raw = path.read_bytes()
    except OSError as err:
        raise ContentError(shown, f"cannot read the file: {err.strerror}") from None
    text = decode(raw, shown)
    if not text.strip():
        raise ContentError(shown, "the file is empty; there is nothing to make a leaflet from")
    reader = _Reader(path, shown, config)
    return reader.read(text)


def detect_shape(text: str, front_matter: dict[str, Any] | None) -> Shape:
    """Tell which kind of article ``text`` is, from its content alone."""
    if front_matter is not None:
        return "cms" if "answer" in front_matter else "markdown"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "markdown" if re.match(r"#\s+\S", first) else "text"


def slugify(text: str, fallback_seed: str = "") -> str:
    """Make a portable, lower-case file-name stem; never empty, never a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG].rstrip("-")
    if not slug:
        slug = "article-" + hashlib.sha256(fallback_seed.encode()).hexdigest()[:8]
    if slug in _WINDOWS_RESERVED:
        slug += "-leaflet"  # CON.pdf and friends cannot be copied to a Windows share
    return slug


_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{d}{n}" for d in ("com", "lpt") for n in range(1, 10)]
)


def parse_date(text: str, date_format: str | None = None) -> dt.date:
    """Parse the date forms health sites and CMS exports use; ValueError if not a date."""
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip())
    cleaned = re.sub(r"\bSept\b", "Sep", cleaned)
    cleaned = re.sub(r"[.,]", " ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    # ISO timestamps: keep the date part only.
    cleaned = re.sub(r"^(\d{4}-\d{2}-\d{2})[T ].*$", r"\1", cleaned)
    formats = list(_DATE_FORMATS)
    if date_format:
        formats.insert(0, _strptime_format(date_format))
    for fmt in formats:
        try:
            return dt.datetime.strptime(cleaned, fmt.replace(",", "")).date()
        except ValueError:
            continue
    raise ValueError(text)


def _strptime_format(hint: str) -> str:
    """Translate a CMS date-format hint (``MMM DD, YYYY``) into strptime terms."""
    table = {"YYYY": "%Y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "DD": "%d", "D": "%d"}
    return re.sub(r"YYYY|MMMM|MMM|MM|DD|D", lambda m: table[m.group()], hint).replace(",", " ")


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus ``months`` calendar months, clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@dataclass
class _Fields:
    """What a shape reader found, before it becomes an Article."""

    title: str | None = None
    title_line: int = 1
    author: str | None = None
    reviewer: str | None = None
    source: str | None = None
    source_url: str | None = None
    online_url: str | None = None
    published: dt.date | None = None
    review_due: dt.date | None = None
    language: str = "en"
    summary: str | None = None
    keywords: tuple[str, ...] = ()
    subject: str | None = None
    related: tuple[str, ...] = ()
    template: str | None = None
    slug: str | None = None
    large_print: bool = False


class _Reader:
    def __init__(self, path: Path, shown: str, config: Config) -> None:
        self.path = path
        self.shown = shown
        self.config = config
        self.findings: list[Finding] = []

    def warn(self, message: str, line: int | None = None) -> None:
        self.findings.append(Finding(self.shown, message, line))

    def error(self, message: str, line: int | None = None) -> ContentError:
        return ContentError(self.shown, message, line)

    def read(self, text: str) -> Article:
        yaml_text, body, body_line = split_front_matter(text, self.shown)
        meta = load_mapping(yaml_text, self.shown, 2) if yaml_text is not None else None
        shape = detect_shape(text, meta.data if meta is not None else None)
        if shape == "cms":
            assert meta is not None
            fields, markdown, first_line, line_map = self._cms(meta, body)
        elif shape == "markdown":
            fields, markdown, first_line, line_map = self._markdown(meta, body, body_line)
        else:
            fields, markdown, first_line, line_map = self._text(body)

        converted = markdown_to_html(
            markdown,
            path=self.shown,
            first_line=first_line,
            title=fields.title,
            line_map=line_map,
        )
        self.findings.extend(converted.findings)
        title = fields.title or converted.heading
        if not title:
            raise self.error(
                "missing required field 'title'; add 'title: …' to the front matter", 1
            )
        if not converted.html:
            raise self.error(
                "no article text: only a title was found"
                + (" (the 'answer' field is empty)" if shape == "cms" else ""),
                first_line,
            )
        if len(title) > MAX_TITLE:
            raise self.error(
                f"the title is {len(title)} characters long (the limit is {MAX_TITLE}); "
                "put a short title on the first line",
                fields.title_line,
            )
        published = fields.published
        review_due = fields.review_due
        if review_due is None and published is not None:
            review_due = add_months(published, self.config.review_months)
        return Article(
            source_path=self.path,
            slug=fields.slug or slugify(self.path.stem, str(self.path)),
            title=title,
            body_html=converted.html,
            shape=shape,
            author=fields.author,
            reviewer=fields.reviewer,
            source=fields.source,
            source_url=fields.source_url,
            online_url=fields.online_url,
            published=published,
            review_due=review_due,
            language=fields.language,
            summary=fields.summary,
            keywords=fields.keywords,
            subject=fields.subject,
            related=fields.related,
            template=fields.template,
            large_print=fields.large_print,
            warnings=tuple(self.findings),
        )

    # -- typed field access ---------------------------------------------------------------

    def _text_field(self, meta: YamlMapping, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ", ".join(v.strip() for v in value if v.strip()) or None
        if not isinstance(value, str):
            raise self.error(f"'{key}' must be text, not a mapping", meta.line(key))
        return re.sub(r"\s+", " ", value).strip() or None

    def _date_field(
        self, meta: YamlMapping, key: str, value: Any, date_format: str | None
    ) -> dt.date | None:
        text = self._text_field(meta, key, value)
        if text is None:
            return None
        try:
            return parse_date(text, date_format)
        except ValueError:
            raise self.error(
                f"invalid date '{text}' in '{key}'; write it as YYYY-MM-DD, e.g. 2025-09-22",
                meta.line(key),
            ) from None

    def _keywords(self, meta: YamlMapping, key: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) and not isinstance(value, str):
            raise self.error(f"'{key}' must be a list or comma-separated text", meta.line(key))
        seen: dict[str, None] = {}
        for item in items:
            if not isinstance(item, str):
                raise self.error(f"'{key}' must be a list of words or phrases", meta.line(key))
            if word := item.strip():
                seen.setdefault(word, None)
        return tuple(seen)

    def _source_url(self, url: str | None, publisher: str | None, line: int) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
        if parts.scheme or parts.netloc:
            self.warn(f"source link '{url}' is not a web address; it is left off", line)
            return None
        base = self.config.source_base(publisher)
        if base is None:
            name = publisher or "the publisher"
            self.warn(
                f"source link '{url}' is relative and no web address is configured for "
                f"{name}; the link is left off (add it under 'sources:' in handouts.yaml)",
                line,
            )
            return None
        return urljoin(base + "/", url)

    def _language(self, meta: YamlMapping, key: str, value: Any) -> str:
        text = self._text_field(meta, key, value)
        if text is None:
            return "en"
        if not _LANGUAGE.fullmatch(text):
            self.warn(
                f"'{text}' is not a language code such as en or zh-Hans; using en", meta.line(key)
            )
            return "en"
        return text

    def _template(self, meta: YamlMapping, key: str, value: Any) -> str | None:
        text = self._text_field(meta, key, value)
        if text is not None and not _TEMPLATE_NAME.fullmatch(text):
            raise self.error(
                f"template name '{text}' must be letters, digits, - or _", meta.line(key)
            )
        return text

    # -- the three shapes -----------------------------------------------------------------

    def _markdown(
        self, meta: YamlMapping | None, body: str, body_line: int
    ) -> tuple[_Fields, str, int, list[int] | None]:
        meta = meta or YamlMapping({})
        known = {alias for aliases in MARKDOWN_FIELDS.values() for alias in aliases}
        for key in meta.data:
            if key not in known:
                self.warn(f"unknown front-matter field '{key}' is ignored", meta.line(key))

        def pick(name: str) -> tuple[str, Any]:
            for alias in MARKDOWN_FIELDS[name]:
                if alias in meta.data:
                    return alias, meta.data[alias]
            return MARKDOWN_FIELDS[name][0], None

        def text(name: str) -> str | None:
            return self._text_field(meta, *pick(name))

        date_format = text("date_format")
        fields = _Fields(
            title=text("title"),
            title_line=meta.line("title"),
            author=text("author"),
            reviewer=text("reviewer"),
            source=text("source"),
            published=self._date_field(meta, *pick("date"), date_format),
            review_due=self._date_field(meta, *pick("review_due"), date_format),
            language=self._language(meta, *pick("language")),
            summary=text("summary"),
            keywords=self._keywords(meta, *pick("keywords")),
            subject=text("subject"),
            template=self._template(meta, *pick("template")),
        )
        url_key, url = pick("source_url")
        fields.source_url = self._source_url(
            self._text_field(meta, url_key, url), fields.source, meta.line(url_key)
        )
        online_key, online = pick("online_url")
        fields.online_url = self._source_url(
            self._text_field(meta, online_key, online), None, meta.line(online_key)
        )
        if (slug := text("slug")) is not None:
            fields.slug = slugify(slug, str(self.path))
        large_key, large = pick("large_print")
        if (large_text := self._text_field(meta, large_key, large)) is not None:
            try:
                fields.large_print = parse_bool(large_text)
            except ValueError:
                raise self.error(
                    f"'{large_key}' must be true or false", meta.line(large_key)
                ) from None
        return fields, body, body_line, None

    def _cms(self, meta: YamlMapping, body: str) -> tuple[_Fields, str, int, list[int] | None]:
        data = meta.data
        leftover = html.unescape(body).replace("\xa0", " ").strip()
        if leftover:
            self.warn("text after the front matter is ignored; the article is the 'answer' field")
        for key in data:
            if key not in CMS_KEYS and not re.fullmatch(r"related_article\d+", key):
                self.warn(f"unknown field '{key}' in the export is ignored", meta.line(key))
        seo_value = data.get("seo")
        seo: dict[str, Any] = seo_value if isinstance(seo_value, dict) else {}

        def text(key: str) -> str | None:
            return self._text_field(meta, key, data.get(key))

        title_key = next(
            (k for k in ("title", "article_title", "question") if data.get(k)), "title"
        )
        publisher = text("source") or text("publisher")
        if publisher is None and isinstance(seo.get("title"), str):
            # "QuickTakes | Medicine": the site's name comes before the bar.
            publisher = seo["title"].split("|")[0].strip() or None
        date_format = text("date_format")
        fields = _Fields(
            title=text(title_key),
            title_line=meta.line(title_key),
            author=text("author"),
            source=publisher,
            published=self._date_field(meta, "date", data.get("date"), date_format),
            review_due=self._date_field(meta, "review_due", data.get("review_due"), date_format),
            language=self._language(meta, "language", data.get("language")),
            summary=self._text_field(meta, "seo.page_description", seo.get("page_description")),
            keywords=self._keywords(meta, "seo.page_keywords", seo.get("page_keywords")),
            subject=text("subject"),
            related=self._related(data),
            template=self._template(meta, "template", data.get("template")),
        )
        fields.source_url = self._source_url(text("url"), publisher, meta.line("url"))
        answer = data.get("answer")
        if not isinstance(answer, str):
            raise self.error("'answer' must be the article text", meta.line("answer"))
        answer_line = meta.line("answer")
        return fields, answer, answer_line, [answer_line]

    def _related(self, data: dict[str, Any]) -> tuple[str, ...]:
        found: dict[str, str] = {}
        keys = sorted(
            (k for k in data if re.fullmatch(r"related_article\d+", k)),
            key=lambda k: int(k.removeprefix("related_article")),
        )
        for key in keys:
            entry = data[key]
            title = entry.get("title") if isinstance(entry, dict) else entry
            if isinstance(title, str) and title.strip():
                found.setdefault(re.sub(r"\s+", " ", title).strip().lower(), title.strip())
        return tuple(found.values())

    def _text(self, body: str) -> tuple[_Fields, str, int, list[int] | None]:
        lines = [html.unescape(line).replace("\xa0", " ").strip() for line in body.split("\n")]
        numbered = [(n, line) for n, line in enumerate(lines, start=1) if line]
        if not numbered:
            raise self.error("the file is empty; there is nothing to make a leaflet from")
        title_line, title = numbered[0]
        fields = _Fields(title=re.sub(r"\s+", " ", title), title_line=title_line)
        index = 1
        while index < len(numbered) and index <= 6:
            number, line = numbered[index]
            if not _metadata_line(line, fields, functools.partial(self.warn, line=number)):
                break
            index += 1
        fields.source_url = None
        markdown, line_map = _text_to_markdown(numbered[index:])
        return fields, markdown, title_line, line_map


# -- plain text ---------------------------------------------------------------------------

_META_PATTERNS = (
    re.compile(rf"^(?P<date>{_DATE})\s*(?:[|·•,–-]\s*)?Source\s*:\s*(?P<source>.+)$", re.I),
    re.compile(rf"^Source\s*:\s*(?P<source>.+?)(?:\s*[|·•,]\s*(?P<date>{_DATE}))?$", re.I),
    re.compile(
        rf"^(?:Published|Posted|Updated|Last updated|Date)(?:\s+on)?\s*:?\s*(?P<date>{_DATE})$",
        re.I,
    ),
    re.compile(rf"^(?P<date>{_DATE})$", re.I),
    re.compile(r"^(?:By|Written by|Author)\s*:?\s+(?P<author>\S.{0,80})$", re.I),
    re.compile(r"^(?:Medically\s+)?Reviewed by\s*:?\s+(?P<reviewer>\S.{0,80})$", re.I),
    re.compile(
        r"^(?P<author>(?:Dr|Prof|Professor|Mr|Mrs|Ms|Miss|Mx|Nurse|Sister)\.?"
        r"\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’.-]*){0,4})$"
    ),
)


def _metadata_line(line: str, fields: _Fields, warn: Callable[[str], None]) -> bool:
    """Fill ``fields`` from a date, publisher or author line; False if it is not one."""
    for pattern in _META_PATTERNS:
        match = pattern.match(line)
        if not match:
            continue
        found = {k: v for k, v in match.groupdict().items() if v}
        if "date" in found:
            try:
                fields.published = fields.published or parse_date(found["date"])
            except ValueError:
                warn(f"'{found['date']}' looks like a date but is not a real one; ignored")
        if "source" in found:
            fields.source = found["source"].strip()
        if "author" in found:
            fields.author = found["author"].strip()
        if "reviewer" in found:
            fields.reviewer = found["reviewer"].strip()
        return True
    return False


_LIST_ITEM = re.compile(r"^(?:(?P<bullet>[-*•·▪◦‣–])|(?P<number>\d{1,3})[.)])\s+(?P<text>.+)$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def _escape(text: str) -> str:
    """Make pasted text literal in Markdown: a stray * or < must not become markup."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"^([+=-]|\d+(?=[.)]))", r"\\\1", text)


def _is_heading(line: str, following: str | None) -> bool:
    words = line.split()
    return (
        following is not None
        and not following[0].islower()  # a wrapped sentence carries on in lower case
        and len(words) <= 12
        and len(line) <= 90
        and not re.search(r"[.,;:!…]$", line)
        and (line[0].isupper() or line[0].isdigit())
        and _LIST_ITEM.match(line) is None
    )


def _text_to_markdown(numbered: list[tuple[int, str]]) -> tuple[str, list[int]]:
    """Classify pasted lines as headings, list items or paragraphs; emit Markdown."""
    out: list[str] = []
    line_map: list[int] = []

    def emit(text: str, number: int) -> None:
        out.append(text)
        line_map.append(number)

    previous_kind = None
    paragraph_open = False
    for position, (number, line) in enumerate(numbered):
        following = numbered[position + 1][1] if position + 1 < len(numbered) else None
        item = _LIST_ITEM.match(line)
        if item:
            kind = "ol" if item.group("number") else "ul"
            if previous_kind != kind:
                emit("", number)
            marker = f"{item.group('number')}." if kind == "ol" else "-"
            emit(f"{marker} {_escape(item.group('text'))}", number)
            previous_kind, paragraph_open = kind, False
        elif _is_heading(line, following):
            emit("", number)
            emit(f"## {_escape(line)}", number)
            previous_kind, paragraph_open = "heading", False
        elif (
            paragraph_open
            and out
            and not re.search(r"[.!?:;\"”’')]$", out[-1])
            and line[0].islower()
        ):
            # A hard-wrapped paragraph: the line continues the sentence above.
            out[-1] += " " + _escape(line)
        else:
            emit("", number)
            emit(_escape(line), number)
            previous_kind, paragraph_open = "p", True
    return "\n".join(out) + "\n", line_map
