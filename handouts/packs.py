"""Leaflet packs: which leaflets go in each, and how a pack PDF is put together.

Part of the build stage. A pack is assembled from the leaflet PDFs the build
has just made or reused, never by laying leaflets out again; only its cover
and contents page are rendered.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import Cache, CacheEntry, file_sha256
from .config import DEFAULT_PACK, Config
from .errors import ConfigError, PdfError
from .model import PackSpec, Variant
from .render import PackEntry, PackFront, Template

if TYPE_CHECKING:
    import datetime as dt

DEFAULT_PACK_TITLE = "Leaflet pack"
CONTENTS_PER_PAGE = 18
"""About how many leaflets the default contents page lists per A4 page."""


@dataclass(frozen=True)
class PackResult:
    """What happened to one pack."""

    name: str
    title: str
    slugs: tuple[str, ...]
    pdf: Path | None = None
    pages: int = 0
    starts: tuple[int, ...] = ()
    """The pack page each leaflet starts on, in the order of ``slugs``."""
    sha256: str | None = None
    reused: bool = False
    error: str | None = None
    seconds: float = 0.0
    """Time spent making the pack (cover, contents and assembly); 0 when reused."""
    booklet: Path | None = None
    """The imposed booklet made from this pack, with ``--booklet``."""

    @property
    def ok(self) -> bool:
        return self.error is None


def pack_specs(config: Config, slugs: Sequence[str]) -> tuple[PackSpec, ...]:
    """The packs to build: those declared, or one pack of every article."""
    if config.packs:
        return config.packs
    return (PackSpec(DEFAULT_PACK, DEFAULT_PACK_TITLE, tuple(slugs), duplex=config.duplex),)


def resolve_members(
    specs: Sequence[PackSpec], slugs: Sequence[str], config: Config
) -> dict[str, tuple[str, ...]]:
    """Expand each pack's names and patterns into slugs, in the order given.

    A name or pattern that matches no article is a configuration error naming
    the pack and the name; all such problems are reported together.
    """
    known = list(slugs)
    members: dict[str, tuple[str, ...]] = {}
    problems = []
    for spec in specs:
        chosen: dict[str, None] = {}
        for pattern in spec.articles:
            matched = sorted(s for s in known if fnmatch.fnmatchcase(s, pattern))
            if not matched:
                where = f"handouts.yaml:{spec.line}: " if spec.line else ""
                problems.append(
                    f"{where}packs.{spec.name}: no article named '{pattern}' "
                    f"(article names are file names without the ending, e.g. "
                    f"'{known[0] if known else 'hand-washing'}')"
                )
            chosen.update(dict.fromkeys(matched))
        members[spec.name] = tuple(chosen)
    if problems:
        raise ConfigError(problems, path=config.display(config.workspace / "handouts.yaml"))
    return members


def make_pack(
    *,
    name: str,
    title: str,
    note: str | None,
    duplex: bool,
    leaflets: Sequence[tuple[str, str, Path, int, str]],
    front: PackFront,
    printed: dt.date,
    render: Callable[[str, str, Template], tuple[bytes, int]],
    target: Path,
    cache: Cache | None,
    write: Callable[[Path, bytes], None],
    pdf_variant: str | None = None,
    variant: Variant | None = None,
    front_pages: int | None = None,
) -> PackResult:
    """Render the cover and contents, join them with the leaflets, write ``target``.

    ``leaflets`` holds (slug, title, pdf, pages, sha256) for each leaflet in order.
    ``render`` lays out HTML (in a worker process) and returns the PDF and its
    page count; it is called only if the pack must be made.
    With a ``cache``, an unchanged pack is reused; ad-hoc packs pass ``None``,
    so the note a nurse typed for one patient is stored nowhere.
    ``front_pages`` is the length of cover and contents, if already measured.
    """
    from .assemble import PackPart, assemble_pack, open_parts, pack_start_pages

    started = time.perf_counter()
    slugs = tuple(slug for slug, *_ in leaflets)
    template = front.template

    titles = [leaflet_title for _, leaflet_title, *_ in leaflets]

    def html_for(starts: Sequence[int | None]) -> str:
        return front_html(
            front, title=title, note=note, printed=printed, titles=titles, starts=starts,
            duplex=duplex, variant=variant,
        )  # fmt: skip

    key = None
    if cache is not None:
        # The contents without page numbers: the numbers follow from the pages below.
        placeholder = html_for([None] * len(leaflets))
        key = cache.key(
            html=placeholder + "".join(f"\n{sha}:{pages}" for *_, pages, sha in leaflets),
            stylesheets=template.stylesheets,
            options={"pack": True, "duplex": duplex, "pdf_variant": pdf_variant},
        )
        entry = cache.lookup(f"pack:{name}", key, target)
        if entry is not None:
            return PackResult(
                name, title, slugs, target, entry.pages, entry.starts, entry.sha256, reused=True
            )

    # The contents lists page numbers that depend on how many pages the cover
    # and contents take. Guess that (from the last time this pack was made, or
    # by estimate), number the contents, and render again only if it was wrong.
    base_url = template.directory.as_uri() + "/"
    previous = cache.entries.get(f"pack:{name}") if cache is not None else None
    if not front_pages:
        if previous is not None and previous.front_pages:
            front_pages = previous.front_pages
        else:
            front_pages = 1 + math.ceil(len(leaflets) / CONTENTS_PER_PAGE)
    parts = [PackPart(pdf, leaflet_title) for _, leaflet_title, pdf, _, _ in leaflets]
    # The leaflets are opened while a worker lays out the front (this thread waits).
    with ThreadPoolExecutor(1) as background:
        opening = background.submit(open_parts, parts)
        try:
            for _ in range(4):
                starts = pack_start_pages(front_pages, [p for *_, p, _ in leaflets], duplex)
                html = html_for(starts)
                front_key = _front_key(cache, html, template, pdf_variant) if cache else None
                made = _kept_front(cache, name, front_key)
                if made is None:
                    made = render(html, base_url, template)
                    _keep_front(cache, name, front_key, made, write)
                front_pdf, made_pages = made
                if made_pages == front_pages:
                    break
                front_pages = made_pages
            else:
                raise PdfError("the contents page numbers would not settle; please report this")
        except BaseException:
            for source in opening.result():
                source.close()
            raise
        opened = opening.result()
    data, actual_starts, pages = assemble_pack(
        front_pdf,
        parts,
        duplex=duplex,
        title=title,
        author=front.renderer.config.organisation.name,
        language="en",
        front_bookmark=title,
        opened=opened,
    )
    # The contents page printed ``starts``; the assembled PDF must agree.
    assert actual_starts == starts, (actual_starts, starts)
    write(target, data)
    sha = file_sha256(target)
    if cache is not None and key is not None:
        cache.store(
            f"pack:{name}",
            CacheEntry(
                key=key, sha256=sha, pages=pages, starts=tuple(starts), front_pages=front_pages
            ),
        )
    return PackResult(
        name, title, slugs, target, pages, tuple(starts), sha,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def front_html(
    front: PackFront,
    *,
    title: str,
    note: str | None,
    printed: dt.date,
    titles: Sequence[str],
    starts: Sequence[int | None],
    duplex: bool,
    variant: Variant | None,
) -> str:
    """The cover and contents of a pack; ``None`` pages print as placeholders.

    The build measures a new pack's front from this HTML with placeholders
    while the leaflets render, so both must come from this one function.
    """
    entries = [PackEntry(t, s) for t, s in zip(titles, starts, strict=True)]
    return front.render(
        title=title, note=note, printed=printed, entries=entries, duplex=duplex, variant=variant
    )


def _front_key(cache: Cache, html: str, template: Template, pdf_variant: str | None) -> str:
    return cache.key(
        html=html,
        stylesheets=template.stylesheets,
        options={"front": True, "pdf_variant": pdf_variant},
    )


def _kept_front(cache: Cache | None, name: str, key: str | None) -> tuple[bytes, int] | None:
    """The cover and contents rendered by an earlier build, if they would come out the same.

    Changing one leaflet seldom moves any page number, so the front is
    usually the same, and not laying it out saves a third of remaking a pack.
    """
    if cache is None or key is None:
        return None
    path = cache.front_pdf(name)
    entry = cache.lookup(f"front:{name}", key, path)
    if entry is None:
        return None
    try:
        return path.read_bytes(), entry.pages
    except OSError:
        return None


def _keep_front(
    cache: Cache | None,
    name: str,
    key: str | None,
    made: tuple[bytes, int],
    write: Callable[[Path, bytes], None],
) -> None:
    # Ad-hoc packs have no cache: the note typed for one patient is not kept.
    if cache is None or key is None:
        return
    path = cache.front_pdf(name)
    path.parent.mkdir(exist_ok=True)
    write(path, made[0])
    cache.store(
        f"front:{name}",
        CacheEntry(
            key=key,
            sha256=hashlib.sha256(made[0]).hexdigest(),
            pages=made[1],
        ),
    )
