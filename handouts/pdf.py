"""HTML to PDF with WeasyPrint, offline: the only module that imports WeasyPrint.

WeasyPrint follows any URL it is given by default (local files, the network).
Articles are untrusted, so every load goes through :class:`WorkspaceFetcher`,
which serves only regular files inside the allowed folders and ``data:`` URLs,
and records what it refused so the build can report it against the article.
WeasyPrint reports unusable resources through its logger rather than raising;
those records are captured too.
"""

from __future__ import annotations

import logging
import mimetypes
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

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            if len(url) > MAX_DATA_URL_BYTES:
                return self._refuse(url[:40] + "…", "embedded data is too large")
            return super().fetch(url, headers)
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
            return self._refuse(url, "outside the workspace")
        if not real.is_file():  # FIFOs and devices would hang or never end
            return self._refuse(url, "not a regular file")
        if real.stat().st_size > MAX_RESOURCE_BYTES:
            return self._refuse(url, "file is too large")
        content_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
        return URLFetcherResponse(real.as_uri(), real.read_bytes(), {"Content-Type": content_type})

    def _refuse(self, url: str, why: str) -> URLFetcherResponse:
        self.refused.append(f"blocked '{_display_url(url)}': {why}")
        raise URLFetchingError(why)


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
        self._cache: dict[str, Any] = {}

    def _stylesheet(self, path: Path) -> Any:
        if path not in self._stylesheets:
            self._stylesheets[path] = weasyprint.CSS(
                string=path.read_text(encoding="utf-8"),
                base_url=path.resolve().as_uri(),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        return self._stylesheets[path]

    def render(
        self, html: str, *, base_url: str, stylesheets: Sequence[Path], pdf_variant: str | None
    ) -> PdfResult:
        """Lay out ``html`` and return the PDF; raise :class:`PdfError` if it cannot be made."""
        self.fetcher.refused = []
        with _captured() as records:
            sheets = [self._stylesheet(p) for p in stylesheets]
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
        other = [m for m in records.messages if not _is_refusal_echo(m)]
        return PdfResult(bytes(data), len(document.pages), tuple(refused + other))


def _is_refusal_echo(message: str) -> bool:
    """WeasyPrint logs its own line for each load our fetcher refused; keep ours only."""
    return message.startswith(
        (
            "Failed to load image",
            "Failed to load stylesheet",
            "Failed to load attachment",
            "Failed to load font",
        )
    )
