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

import pikepdf
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


@dataclass(frozen=True)
class PackPart:
    """One leaflet to put in a pack."""

    pdf: Path
    title: str


def pack_start_pages(front_pages: int, page_counts: Sequence[int], duplex: bool) -> list[int]:
    """The page each leaflet starts on (1-based), after ``front_pages`` of cover and contents.

    With ``duplex`` every leaflet starts on a right-hand (odd) page, so that
    printed double-sided no leaflet shares a sheet with the one before.
    """
    starts = []
    page = front_pages + 1
    for count in page_counts:
        if duplex and page % 2 == 0:
            page += 1
        starts.append(page)
        page += count
    return starts


def assemble_pack(
    front: bytes,
    parts: Sequence[PackPart],
    *,
    duplex: bool,
    title: str,
    author: str,
    language: str,
    front_bookmark: str,
) -> tuple[bytes, list[int], int]:
    """Join the rendered cover and contents with finished leaflet PDFs.

    Leaflets are never laid out again: their pages are copied as they are, so
    they look exactly like the stand-alone leaflets, and a pack costs a small
    fraction of its leaflets' rendering time. Object streams make the pack
    smaller than its leaflets together, though each keeps its own font subset.
    Returns the PDF, the page each leaflet starts on, and the page count.
    """
    pack = pikepdf.open(io.BytesIO(front))
    starts: list[int] = []
    opened = []
    structure = _Structure(pack)
    with pack.open_outline() as outline:
        outline.root[:] = [pikepdf.OutlineItem(front_bookmark, 0)]
        for part in parts:
            source = pikepdf.open(part.pdf)
            opened.append(source)
            if duplex and len(pack.pages) % 2 == 1:
                _blank_page_like(pack, pack.pages[-1])
            start = len(pack.pages)
            starts.append(start + 1)
            pack.pages.extend(source.pages)
            structure.add(source, start)
            item = pikepdf.OutlineItem(part.title, start)
            item.children.extend(_headings(source, start))
            outline.root.append(item)
    pack.Root.Lang = pikepdf.String(language)
    pack.Root.PageMode = pikepdf.Name.UseOutlines
    with pack.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = title
    pack.docinfo["/Title"] = title
    pack.docinfo["/Author"] = author
    buffer = io.BytesIO()
    pack.save(
        buffer,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        deterministic_id=True,
    )
    pages = len(pack.pages)
    for source in opened:
        source.close()
    return buffer.getvalue(), starts, pages


class _Structure:
    """Keeps a pack a tagged PDF: merges each leaflet's structure tree into the pack's.

    A tagged page names its entries in the document's ParentTree by number
    (``/StructParents``, and ``/StructParent`` on links). Each leaflet numbers
    from 0, so its numbers are moved past the pack's before its tree is joined
    under the pack's document element as a ``Part``.
    """

    def __init__(self, pack: pikepdf.Pdf) -> None:
        self.pack = pack
        root = pack.Root.get("/StructTreeRoot")
        self.enabled = root is not None
        if root is None:
            return
        self.root = root
        self.tree = pikepdf.NumberTree(root.ParentTree)
        self.next_key = max((int(k) for k, _ in self.tree.items()), default=-1) + 1
        kids = root.K
        self.document = kids if isinstance(kids, pikepdf.Dictionary) else kids[0]
        if not isinstance(self.document.get("/K"), pikepdf.Array):
            self.document.K = pikepdf.Array([self.document.K] if "/K" in self.document else [])

    def add(self, source: pikepdf.Pdf, first_page: int) -> None:
        source_root = source.Root.get("/StructTreeRoot")
        if not self.enabled or source_root is None:
            return
        offset = self.next_key
        source_tree = pikepdf.NumberTree(source_root.ParentTree)
        highest = -1
        for key, value in source_tree.items():
            self.tree[int(key) + offset] = self._copy(value)
            highest = max(highest, int(key))
        for page in self.pack.pages[first_page:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        # Page objects were copied by pages.extend(); copy_foreign maps the
        # elements' /Pg references to those same copies.
        kids = source_root.K
        for element in kids if isinstance(kids, pikepdf.Array) else [kids]:
            copied = self._copy(element)
            if copied.get("/S") == pikepdf.Name.Document:
                copied.S = pikepdf.Name.Part
            copied.P = self.document
            self.document.K.append(copied)
        role_map = source_root.get("/RoleMap")
        if role_map is not None:
            if "/RoleMap" not in self.root:
                self.root.RoleMap = pikepdf.Dictionary()
            for name, role in role_map.items():
                if name not in self.root.RoleMap:
                    self.root.RoleMap[name] = role
        self.next_key = offset + highest + 1
        self.root.ParentTreeNextKey = self.next_key

    def _copy(self, value: Any) -> Any:
        """Copy from a leaflet into the pack; direct arrays and dictionaries item by item."""
        if isinstance(value, pikepdf.Object) and value.is_indirect:
            return self.pack.copy_foreign(value)
        if isinstance(value, pikepdf.Array):
            return pikepdf.Array([self._copy(item) for item in value])
        if isinstance(value, pikepdf.Dictionary):
            return pikepdf.Dictionary({key: self._copy(item) for key, item in value.items()})
        return value


def _blank_page_like(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
    pdf.add_blank_page(page_size=(float(page.mediabox[2]), float(page.mediabox[3])))


def _headings(source: pikepdf.Pdf, offset: int) -> list[pikepdf.OutlineItem]:
    """The leaflet's own bookmarks (its headings), pointing into the pack.

    A leaflet's outline is its title with the headings under it; under the
    pack's entry for the leaflet, only the headings are wanted.
    """
    index = {page.objgen: number for number, page in enumerate(source.pages)}
    with source.open_outline() as outline:
        items = list(outline.root)
        if len(items) == 1:
            items = list(items[0].children)
        return [_remap(item, index, offset) for item in items]


def _remap(item: pikepdf.OutlineItem, index: dict[Any, int], offset: int) -> pikepdf.OutlineItem:
    destination = item.destination
    page = 0
    left = top = None
    if isinstance(destination, pikepdf.Array) and len(destination) >= 4:
        page = index.get(destination[0].objgen, 0)
        if destination[1] == pikepdf.Name.XYZ:
            left, top = float(destination[2]), float(destination[3])
    copy = pikepdf.OutlineItem(
        item.title, offset + page, "XYZ" if top is not None else None, left=left, top=top
    )
    copy.children.extend(_remap(child, index, offset) for child in item.children)
    return copy


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


A4_LANDSCAPE = (841.89, 595.28)
"""Points; the sheet a booklet of A5 pages is printed on."""


def booklet_order(pages: int) -> list[tuple[int | None, int | None]]:
    """Saddle-stitch order: for each printed side, the (left, right) page numbers.

    ``pages`` is padded to a multiple of four with blanks (``None``). Printed
    double-sided (flip on the short edge), stacked and folded once, the pages
    read in order: the first sheet's front is (last page, page 1), its back
    (page 2, second-to-last), and so on towards the middle.
    """
    total = -(-max(pages, 1) // 4) * 4

    def page(number: int) -> int | None:
        return number if number <= pages else None

    sides = []
    for sheet in range(total // 4):
        sides.append((page(total - 2 * sheet), page(2 * sheet + 1)))
        sides.append((page(2 * sheet + 2), page(total - 2 * sheet - 1)))
    return sides


def impose_booklet(source: Path) -> bytes:
    """Lay the pages of ``source`` (A5) two-up on A4 landscape sheets, in booklet order.

    The result is for printing, not for reading on screen: imposition cannot
    keep a tagged PDF's reading order, so the booklet is an untagged copy of
    a leaflet whose own PDF stays the accessible version.
    """
    width, height = A4_LANDSCAPE
    with pikepdf.open(source) as pdf:
        booklet = pikepdf.new()
        forms = [booklet.copy_foreign(page.as_form_xobject()) for page in pdf.pages]
        for left, right in booklet_order(len(pdf.pages)):
            sheet = booklet.add_blank_page(page_size=(width, height))
            for number, x in ((left, 0.0), (right, width / 2)):
                if number is not None:
                    sheet.add_overlay(
                        forms[number - 1], pikepdf.Rectangle(x, 0, x + width / 2, height)
                    )
        buffer = io.BytesIO()
        booklet.save(
            buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True
        )
    return buffer.getvalue()
