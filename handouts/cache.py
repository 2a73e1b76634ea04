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
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__

CACHE_FILE = ".handouts-cache.json"
"""Kept in the output folder, beside the PDFs it describes."""
FORMAT = 1

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
        self._hashes: dict[Path, str] = {}
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
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # No cache, or one from another version or damaged: build everything.
            self.entries = {}

    def hash_file(self, path: Path) -> str:
        """SHA-256 of ``path``, computed once per build however many leaflets use it."""
        if path not in self._hashes:
            self._hashes[path] = file_sha256(path)
        return self._hashes[path]

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

    def store(self, name: str, entry: CacheEntry) -> None:
        self.entries[name] = entry

    def forget(self, name: str) -> None:
        self.entries.pop(name, None)

    def to_json(self) -> str:
        entries = {name: asdict(entry) for name, entry in sorted(self.entries.items())}
        return json.dumps(
            {"format": FORMAT, "entries": entries, "readability": self.readability}, indent=1
        )
