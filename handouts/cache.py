"""Reuse a leaflet when nothing that affects its pages has changed.

What a leaflet's pages depend on, and how each is covered:

* the article, the config values it prints (organisation, dates, labels), the
  template's HTML: all of it ends up in the rendered HTML, which is hashed
  whole, so a changed date or phone number changes the key;
* the template's stylesheets: hashed by content;
* every file loaded while rendering (fonts, logo, images): recorded at render
  time and checked by content hash on the next build;
* the engine: handouts, WeasyPrint, pydyf, Pango and HarfBuzz versions, and the
  PDF options.

The PDF in the output folder is the cached artefact; its SHA-256 is recorded,
so a PDF that was deleted or edited by hand is rebuilt.

So that a rebuild of a large library need not read and template every
article again to learn that nothing changed, two shortcuts sit in front of
that key (both are conservative: anything they do not cover misses):

* read articles are kept by a hash of the file, its name, the whole config
  and the reading libraries' versions, so an unchanged article is not parsed
  again (Pelican's reader cache does the same for pages);
* each PDF also records the *inputs* it was made from (that article hash, the
  template name, a hash of every file in the template folders, the print
  variant); when they match, the leaflet is reused without templating it.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .model import Article, Finding

CACHE_FILE = ".handouts-cache.json"
"""Kept in the output folder, beside the PDFs it describes."""
CACHE_DIR = ".handouts-cache"
"""Beside it: the rendered cover and contents of each pack, reused while unchanged."""
FORMAT = 2

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheEntry:
    """What is known about one PDF made by an earlier build."""

    key: str
    sha256: str
    pages: int
    warnings: tuple[str, ...] = ()
    """Warnings from rendering (blocked loads), shown again when the PDF is reused."""
    dependencies: tuple[tuple[str, str], ...] = ()
    """(absolute path, SHA-256) of every file loaded while rendering."""
    starts: tuple[int, ...] = ()
    """For packs: the page each leaflet starts on."""
    front_pages: int = 0
    """For packs: pages of cover and contents, the first guess when the pack is remade."""
    inputs: str = ""
    """For leaflets: hash of what the HTML was made from (see :func:`fingerprint`)."""
    template_warnings: tuple[str, ...] = ()
    """For leaflets: warnings from templating, shown again when templating is skipped."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def engine_fingerprint() -> str:
    """Versions of everything that lays out or writes the PDF.

    Read without importing WeasyPrint, so a build with nothing to do stays fast.
    """
    parts = [f"handouts={__version__}", f"cache-format={FORMAT}"]
    for package in ("weasyprint", "pydyf", "pikepdf", "tinycss2", "cssselect2", "fonttools"):
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}=none")
    for library, function in (
        ("libpango-1.0.so.0", "pango_version_string"),
        ("libharfbuzz.so.0", "hb_version_string"),
        ("libharfbuzz-subset.so.0", None),
    ):
        parts.append(f"{library}={_library_version(library, function)}")
    return ";".join(parts)


READING_PACKAGES = ("pyyaml", "markdown-it-py", "nh3", "jinja2", "babel", "segno", "textstat")
"""Libraries whose version can change what an article reads or templates as."""


@cache
def library_fingerprint() -> str:
    """Versions of Python, handouts and the libraries that read and template articles."""
    parts = [f"python={sys.version}", engine_fingerprint()]
    for package in READING_PACKAGES:
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}=none")
    return ";".join(parts)


def fingerprint(*parts: str) -> str:
    """One hash of several strings, none of which can be mistaken for another's end."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(f"{len(encoded)}:".encode())
        digest.update(encoded)
    return digest.hexdigest()


def harfbuzz_version() -> str:
    return _library_version("libharfbuzz.so.0", "hb_version_string")


def subset_library_present() -> bool:
    """Whether HarfBuzz's subsetter loads: without it WeasyPrint is several times slower."""
    for name in (
        "libharfbuzz-subset.so.0",
        "libharfbuzz-subset.0.dylib",
        "libharfbuzz-subset-0.dll",
    ):
        if _library_version(name, None) == "present":
            return True
    return False


def _library_version(name: str, function: str | None) -> str:
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return "missing"
    if function is None:
        return "present"
    version = getattr(library, function)
    version.restype = ctypes.c_char_p
    return str(version().decode())


class Cache:
    """The record of what the last build made in one output folder."""

    def __init__(self, output: Path) -> None:
        self.path = output / CACHE_FILE
        self.entries: dict[str, CacheEntry] = {}
        self.readability: dict[str, tuple[float, float]] = {}
        """Reading scores by text hash: scoring loads a dictionary, 0.6 s a build."""
        self.articles: dict[str, tuple[str, dict[str, Any]]] = {}
        """Read articles by source path: (the hash they were read under, the article)."""
        self._hashes: dict[Path, str] = {}
        self._trees: dict[tuple[Path, ...], str] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return
            self.readability = {
                key: (float(value[0]), float(value[1]))
                for key, value in data.get("readability", {}).items()
            }
            self.articles = {
                str(path): (str(value[0]), dict(value[1]))
                for path, value in data.get("articles", {}).items()
            }
            for name, entry in data["entries"].items():
                self.entries[name] = CacheEntry(
                    key=entry["key"],
                    sha256=entry["sha256"],
                    pages=int(entry["pages"]),
                    warnings=tuple(entry.get("warnings", ())),
                    dependencies=tuple(
                        (str(d[0]), str(d[1])) for d in entry.get("dependencies", ())
                    ),
                    starts=tuple(entry.get("starts", ())),
                    front_pages=int(entry.get("front_pages", 0)),
                    inputs=str(entry.get("inputs", "")),
                    template_warnings=tuple(entry.get("template_warnings", ())),
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # No cache, or one from another version or damaged: build everything.
            self.entries = {}
            self.articles = {}

    def hash_file(self, path: Path) -> str:
        """SHA-256 of ``path``, computed once per build however many leaflets use it."""
        if path not in self._hashes:
            self._hashes[path] = file_sha256(path)
        return self._hashes[path]

    def tree_hash(self, roots: Sequence[Path]) -> str:
        """One hash of every file under ``roots`` (names and contents), once per build."""
        roots = tuple(roots)
        if roots not in self._trees:
            parts = []
            for root in roots:
                for path in sorted(root.rglob("*")):
                    if path.is_file() and "__pycache__" not in path.parts:
                        parts.append(f"{path}={self.hash_file(path)}")
            self._trees[roots] = fingerprint(*parts)
        return self._trees[roots]

    def article_key(self, path: Path, context: str, max_bytes: int) -> str | None:
        """The hash an article read from ``path`` is kept under; ``None`` if it cannot be kept."""
        try:
            if path.stat().st_size > max_bytes:
                return None  # the reader refuses it, with the reason
            return fingerprint(context, str(path), hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            return None

    def article(self, path: Path, key: str, shown: str) -> Article | None:
        """The article read from ``path`` under ``key`` by an earlier build, if kept.

        ``shown`` is how the file is named to the user in this build (it
        depends on the folder the build runs from): its warnings say that.
        """
        kept = self.articles.get(str(path))
        if kept is None or kept[0] != key:
            return None
        try:
            return article_from_record(kept[1], shown)
        except (KeyError, TypeError, ValueError):
            return None

    def keep_article(self, path: Path, key: str, article: Article, shown: str) -> None:
        self.articles[str(path)] = (key, article_record(article, shown))

    def key(self, *, html: str, stylesheets: Sequence[Path], options: dict[str, Any]) -> str:
        """The cache key of a document: everything that decides its pages."""
        digest = hashlib.sha256()
        digest.update(engine_fingerprint().encode())
        digest.update(json.dumps(options, sort_keys=True, default=str).encode())
        for sheet in stylesheets:
            digest.update(f"{sheet}:{self.hash_file(sheet)}".encode())
        digest.update(html.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def lookup(self, name: str, key: str, pdf: Path) -> CacheEntry | None:
        """Return the entry for ``name`` if ``pdf`` is still exactly what it describes."""
        entry = self.entries.get(name)
        if entry is None or entry.key != key:
            return None
        try:
            # Not hash_file(): outputs change during a build, so they are never memoised.
            if not pdf.is_file() or pdf.is_symlink() or file_sha256(pdf) != entry.sha256:
                return None
            for dependency, sha in entry.dependencies:
                if self.hash_file(Path(dependency)) != sha:
                    return None
        except OSError:
            return None
        return entry

    def dependencies(self, paths: Iterable[str]) -> tuple[tuple[str, str], ...]:
        found = []
        for path in sorted(set(paths)):
            try:
                found.append((path, self.hash_file(Path(path))))
            except OSError:
                continue
        return tuple(found)

    def front_pdf(self, pack: str) -> Path:
        """Where the cover and contents of ``pack`` are kept between builds."""
        return self.path.parent / CACHE_DIR / f"{pack}-front.pdf"

    def store(self, name: str, entry: CacheEntry) -> None:
        self.entries[name] = entry

    def forget(self, name: str) -> None:
        self.entries.pop(name, None)

    def to_json(self) -> str:
        entries = {name: asdict(entry) for name, entry in sorted(self.entries.items())}
        # Articles whose files are gone would only grow the file.
        articles = {p: kept for p, kept in sorted(self.articles.items()) if Path(p).is_file()}
        return json.dumps(
            {
                "format": FORMAT,
                "entries": entries,
                "readability": self.readability,
                "articles": articles,
            },
            indent=1,
            ensure_ascii=False,
        )


_DATES = {"published", "review_due"}
_TUPLES = {"keywords", "related"}


def article_record(article: Article, shown: str) -> dict[str, Any]:
    """An article as JSON-ready data (the reverse of :func:`article_from_record`).

    Its warnings name the file as ``shown``; that name is kept as ``None``.
    """
    record: dict[str, Any] = {}
    for item in fields(Article):
        value = getattr(article, item.name)
        if item.name == "source_path":
            value = str(value)
        elif item.name in _DATES:
            value = value.isoformat() if value is not None else None
        elif item.name in _TUPLES:
            value = list(value)
        elif item.name == "warnings":
            value = [
                [None if f.path == shown else f.path, f.message, f.line, f.level] for f in value
            ]
        record[item.name] = value
    return record


def article_from_record(record: dict[str, Any], shown: str) -> Article:
    values: dict[str, Any] = {}
    for item in fields(Article):
        value = record[item.name]
        if item.name == "source_path":
            value = Path(value)
        elif item.name in _DATES:
            value = dt.date.fromisoformat(value) if value is not None else None
        elif item.name in _TUPLES:
            value = tuple(str(v) for v in value)
        elif item.name == "warnings":
            value = tuple(
                Finding(shown if p is None else str(p), str(m), line, level)
                for p, m, line, level in value
            )
        values[item.name] = value
    return Article(**values)
