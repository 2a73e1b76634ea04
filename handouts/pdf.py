"""HTML to PDF with WeasyPrint, offline: the only module that imports WeasyPrint.

WeasyPrint follows any URL it is given by default (local files, the network).
Articles are untrusted, so every load goes through :class:`WorkspaceFetcher`,
which serves only regular files inside the allowed folders and ``data:`` URLs,
and records what it refused so the build can report it against the article.
WeasyPrint reports unusable resources through its logger rather than raising;
those records are captured too.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from .errors import PdfError

MAX_RESOURCE_BYTES = 20_000_000
"""No image, font or stylesheet a leaflet needs is bigger than this."""
MAX_DATA_URL_BYTES = 5_000_000

WEASYPRINT_VERSION: str = weasyprint.__version__


class WorkspaceFetcher(URLFetcher):
    """Serve files inside ``roots`` and small ``data:`` URLs; refuse and record the rest."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [root.resolve() for root in roots]
        self.refused: list[str] = []
        self.served: set[str] = set()
        """Files loaded for the current document: what a cached PDF depends on."""
        self.refused_urls: set[str] = set()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            if len(url) > MAX_DATA_URL_BYTES:
                return self._refuse(url, "embedded data is too large")
            response = super().fetch(url, headers)
            body = response.read()
            if problem := _image_problem(body):
                return self._refuse(url, problem)
            return URLFetcherResponse(response.url, body, response.headers)
        if scheme != "file":
            return self._refuse(url, "leaflets are made offline: nothing is downloaded")
        parts = urlsplit(url)
        path = Path(url2pathname(unquote(parts.path)))
        try:
            # resolve() follows symlinks, so a link pointing out of the workspace is caught.
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return self._refuse(url, "file not found")
        if not any(real.is_relative_to(root) for root in self.roots):
            if real != path.absolute():
                return self._refuse(url, "a link to a file outside the workspace")
            return self._refuse(url, "outside the workspace")
        if not real.is_file():  # FIFOs and devices would hang or never end
            return self._refuse(url, "not a regular file")
        if real.stat().st_size > MAX_RESOURCE_BYTES:
            return self._refuse(url, "file is too large")
        self.served.add(str(real))
        content_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
        body = real.read_bytes()
        if problem := _image_problem(body):
            return self._refuse(url, problem)
        return URLFetcherResponse(real.as_uri(), body, {"Content-Type": content_type})

    def _refuse(self, url: str, why: str) -> URLFetcherResponse:
        self.refused.append(f"blocked '{_display_url(url)}': {why}")
        self.refused_urls.add(url)
        raise URLFetchingError(why)


MAX_IMAGE_PIXELS = 25_000_000
"""Larger images are refused: a 12 kB PNG can decode to gigabytes (a decompression bomb)."""


def _image_problem(data: bytes) -> str | None:
    """Refuse raster images too big to decode safely (a 12 kB PNG can be 100 Mpx)."""
    from PIL import Image

    # Read the size with Pillow's own bomb check off: it would raise before
    # saying how big the image is. Only the header is read.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:
        return None  # not a raster image (SVG, CSS, font): nothing to check here
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width * height > MAX_IMAGE_PIXELS:
        return (
            f"image is {width * height / 1e6:.0f} Mpx (limit {MAX_IMAGE_PIXELS / 1e6:.0f} Mpx); "
            "use a smaller copy"
        )
    return None


def _display_url(url: str) -> str:
    if url.startswith("file:"):
        return unquote(urlsplit(url).path)
    return url if len(url) <= 100 else url[:99] + "…"


@dataclass(frozen=True)
class PdfResult:
    """A rendered PDF and what happened on the way."""

    data: bytes
    pages: int
    warnings: tuple[str, ...]
    dependencies: tuple[str, ...] = ()
    """Absolute paths of the files loaded while rendering (fonts, images, logo)."""
    missing_glyphs: str = ""
    """Characters no available font could draw: they print as empty boxes."""


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured() -> Iterator[_Records]:
    logger = logging.getLogger("weasyprint")
    handler = _Records()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class PdfRenderer:
    """Renders HTML to PDF bytes, sharing fonts and parsed stylesheets between leaflets.

    Parsing a template's CSS and loading its fonts once per process, not once
    per leaflet, saves about a tenth of the rendering time.
    """

    def __init__(self, roots: Sequence[Path]) -> None:
        self.fetcher = WorkspaceFetcher(roots)
        self.font_config = FontConfiguration()
        self._stylesheets: dict[Path, Any] = {}
        self._sheet_files: dict[Path, frozenset[str]] = {}
        self._cache: dict[str, Any] = {}

    def _stylesheet(self, path: Path) -> Any:
        if path not in self._stylesheets:
            # Fonts named by @font-face load now, once per process; note them as
            # dependencies of every document that uses this stylesheet.
            self.fetcher.served = set()
            self._stylesheets[path] = weasyprint.CSS(
                string=path.read_text(encoding="utf-8"),
                base_url=path.resolve().as_uri(),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
            self._sheet_files[path] = frozenset(self.fetcher.served)
        return self._stylesheets[path]

    def render(
        self, html: str, *, base_url: str, stylesheets: Sequence[Path], pdf_variant: str | None
    ) -> PdfResult:
        """Lay out ``html`` and return the PDF; raise :class:`PdfError` if it cannot be made."""
        with _captured() as records:
            sheets = [self._stylesheet(p) for p in stylesheets]
            self.fetcher.refused = []
            self.fetcher.refused_urls = set()
            self.fetcher.served = set().union(*(self._sheet_files[p] for p in stylesheets))
            try:
                document = weasyprint.HTML(
                    string=html, base_url=base_url, url_fetcher=self.fetcher
                ).render(stylesheets=sheets, font_config=self.font_config, cache=self._cache)
                data = document.write_pdf(pdf_variant=pdf_variant)
            except RecursionError:
                raise PdfError("the article is nested too deeply to lay out") from None
            except (OSError, ValueError, UnicodeError) as err:
                raise PdfError(f"WeasyPrint could not make the PDF: {err}") from None
        refused = list(dict.fromkeys(self.fetcher.refused))
        missing = "".join(
            dict.fromkeys(m.group(1) for m in map(_NOTDEF.match, records.messages) if m)
        )
        refused_urls = self.fetcher.refused_urls
        other = [
            _plain(m)
            for m in records.messages
            if not _NOTDEF.match(m) and not _is_refusal_echo(m, refused_urls)
        ]
        return PdfResult(
            bytes(data),
            len(document.pages),
            tuple(refused + other),
            tuple(sorted(self.fetcher.served)),
            missing,
        )


# WeasyPrint 70 logs one line per character that no font has a glyph for.
_NOTDEF = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.+?)"')


_FAILED_IMAGE = re.compile(r"Failed to load image at '(?P<url>[^']+)': ?(?P<why>.*)$")


def _plain(message: str) -> str:
    """WeasyPrint's log line, as a user would want to read it."""
    if match := _FAILED_IMAGE.match(message):
        why = match.group("why").strip() or "it is damaged, not an image, or unsafe to open"
        return f"could not draw image '{_display_url(match.group('url'))}': {why}"
    return message


def _is_refusal_echo(message: str, refused: set[str]) -> bool:
    """WeasyPrint logs its own line for each load our fetcher refused; keep ours only.

    Other load failures (a damaged image in the workspace) are kept.
    """
    return message.startswith("Failed to load") and any(url in message for url in refused)


def engine_report() -> dict[str, str]:
    """Versions of the rendering engine and whether the fast font subsetter is present."""
    from weasyprint.text import ffi

    pango = int(ffi.pango.pango_version())
    return {
        "WeasyPrint": WEASYPRINT_VERSION,
        "pydyf": _version("pydyf"),
        "pikepdf": _version("pikepdf"),
        "Pango": f"{pango // 10000}.{pango // 100 % 100}.{pango % 100}",
        "HarfBuzz subset library": "present" if ffi.harfbuzz_subset is not None else "missing",
    }


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
