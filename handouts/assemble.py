"""Put finished PDFs together: packs from leaflets, booklets from pages.

Uses pikepdf (qpdf) only, never WeasyPrint: assembling a pack from leaflets
that are already made must not cost the half second of loading the renderer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf


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


def open_parts(parts: Sequence[PackPart]) -> list[pikepdf.Pdf]:
    """Open the leaflets of a pack (a tenth of a second for a hundred)."""
    return [pikepdf.open(part.pdf) for part in parts]


def assemble_pack(
    front: bytes,
    parts: Sequence[PackPart],
    *,
    duplex: bool,
    title: str,
    author: str,
    language: str,
    front_bookmark: str,
    opened: Sequence[pikepdf.Pdf] | None = None,
) -> tuple[bytes, list[int], int]:
    """Join the rendered cover and contents with finished leaflet PDFs.

    Leaflets are never laid out again: their pages are copied as they are, so
    they look exactly like the stand-alone leaflets, and a pack costs a small
    fraction of its leaflets' rendering time. Object streams make the pack
    smaller than its leaflets together, though each keeps its own font subset.
    ``opened`` are the parts already opened with :func:`open_parts` (it closes them).
    Returns the PDF, the page each leaflet starts on, and the page count.
    """
    pack = pikepdf.open(io.BytesIO(front))
    starts: list[int] = []
    sources = list(opened) if opened is not None else open_parts(parts)
    structure = _Structure(pack)
    with pack.open_outline() as outline:
        outline.root[:] = [pikepdf.OutlineItem(front_bookmark, 0)]
        for part, source in zip(parts, sources, strict=True):
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
    for source in sources:
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
            self.tree[int(key) + offset] = self._copy(value, source)
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
            copied = self._copy(element, source)
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

    def _copy(self, value: Any, source: pikepdf.Pdf) -> Any:
        """Copy from a leaflet into the pack, with everything it refers to.

        qpdf copies only indirect objects between files, so a direct array or
        dictionary is made indirect in the (read-only) leaflet first: one copy
        of the whole subtree instead of one per item, a tenth of a pack's time.
        """
        if isinstance(value, pikepdf.Object) and value.is_indirect:
            return self.pack.copy_foreign(value)
        if isinstance(value, (pikepdf.Array, pikepdf.Dictionary)):
            return self.pack.copy_foreign(source.make_indirect(value))
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
