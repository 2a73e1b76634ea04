"""Orchestrate a build: find articles, read them all, render what changed, make packs.

A bad article never stops the others: each is read, rendered and written on
its own, its failure recorded, and the summary lists every failure. Leaflets
are rendered in parallel worker processes, each loading WeasyPrint once; a
leaflet whose pages cannot have changed is reused from the last build. Packs
are assembled from the finished leaflet PDFs. Every file is written
atomically, so a reader (or a printer queue) never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__
from .cache import (
    CACHE_FILE,
    Cache,
    CacheEntry,
    file_sha256,
    fingerprint,
    library_fingerprint,
    subset_library_present,
)
from .config import CONFIG_NAME, Config, display_path, parse_paper
from .errors import ContentError, HandoutsError, PdfError
from .files import write_atomic
from .model import Article, Finding, PackSpec, Variant
from .packs import PackResult, front_html, make_pack, pack_specs, resolve_members
from .quality import (
    Readability,
    plain_text,
    preload_readability,
    quality_findings,
    readability,
    reading_finding,
    text_key,
)
from .readers import SUFFIXES, read_article, slugify
from .render import (
    PackFront,
    Renderer,
    Template,
    builtin_templates,
    find_template,
    template_roots,
)
from .workers import Limits, Outcome, Task, Workers

logger = logging.getLogger(__name__)

STARTER = Path(__file__).parent / "starter"
"""The files ``handouts init`` copies into a new workspace, beside the templates."""
MANIFEST = "manifest.json"
FRONT_SIZE = "front size:"
"""Task names of packs' fronts laid out to measure them (slugs have no colon)."""
WORKER_TASKS = 200
"""Leaflets a worker renders before it is replaced: WeasyPrint's memory grows over long runs."""


@dataclass(frozen=True)
class LeafletResult:
    """What happened to one article."""

    source: str
    """The article file, as shown to the user."""
    slug: str | None = None
    title: str | None = None
    pdf: Path | None = None
    pages: int = 0
    warnings: tuple[Finding, ...] = ()
    error: str | None = None
    """One line saying why no leaflet was made, or ``None``."""
    reused: bool = False
    """True when the PDF from the last build was still right and was kept."""
    sha256: str | None = None
    reading_grade: float | None = None
    """Flesch–Kincaid grade of English text (recorded in the manifest, not printed)."""
    reading_ease: float | None = None
    name: str | None = None
    """Output name: the slug, with ``-large-print`` or a paper size for variants."""
    large_print: bool = False
    booklet: Path | None = None
    """The imposed booklet made from this leaflet, with ``--booklet``."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build or a check."""

    leaflets: tuple[LeafletResult, ...]
    output_dir: Path
    seconds: float
    packs: tuple[PackResult, ...] = ()
    config_warnings: tuple[Finding, ...] = ()
    rendered: bool = True
    """False for ``check``, which reads and validates without making PDFs."""
    strict: bool = False

    @property
    def failed(self) -> list[LeafletResult]:
        return [r for r in self.leaflets if not r.ok]

    @property
    def failed_packs(self) -> list[PackResult]:
        return [p for p in self.packs if not p.ok]

    @property
    def ok(self) -> bool:
        return (
            not self.failed and not self.failed_packs and not (self.strict and self.config_warnings)
        )

    @property
    def warning_count(self) -> int:
        return len(self.config_warnings) + sum(len(r.warnings) for r in self.leaflets)

    def summary(self) -> str:
        """One line: leaflets built, reused and failed; packs; where; how long."""
        total = len(self.leaflets)
        good = total - len(self.failed)
        noun = "leaflet" if total == 1 else "leaflets"
        if self.rendered:
            reused = sum(1 for r in self.leaflets if r.ok and r.reused)
            counted = f"{good} {noun}" if good == total else f"{good} of {total} {noun}"
            line = f"Built {counted} ({good - reused} rendered, {reused} reused)"
            written = [p for p in self.packs if p.ok]
            if written:
                line += f" and {len(written)} pack{'s' if len(written) != 1 else ''}"
            line += f" in {display_path(self.output_dir)}/ in {self.seconds:.1f} s"
        else:
            line = f"Checked {total} {noun}: {good} ok"
        if self.warning_count:
            line += f", {self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        if self.failed:
            names = ", ".join(r.source for r in self.failed)
            line += f"; {len(self.failed)} failed: {names}"
        if self.failed_packs:
            names = ", ".join(p.name for p in self.failed_packs)
            line += f"; pack{'s' if len(self.failed_packs) != 1 else ''} not written: {names}"
        if self.strict and self.config_warnings:
            line += "; failed: configuration warnings under --strict"
        return line + "."


@dataclass
class Progress:
    """Callbacks a caller (the CLI's progress bar) can give a build. All optional."""

    planned: Callable[[int], None] | None = None
    """Called once with the number of leaflets the build will produce."""
    leaflet: Callable[[LeafletResult], None] | None = None
    """Called as each leaflet is finished (made, reused or failed)."""
    pack: Callable[[PackResult], None] | None = None
    notice: Callable[[str], None] | None = None
    """Called with advice about the machine (not the articles), e.g. a slow setup."""


def default_jobs() -> int:
    """Worker processes to use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def build_date() -> dt.date:
    """The date printed on pack covers: today, or ``SOURCE_DATE_EPOCH`` for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def discover(config: Config, paths: Sequence[str | Path] = ()) -> list[Path]:
    """Return the article files to build: the given files and folders, or ``content/``."""
    if not paths:
        if not config.content_dir.is_dir():
            raise HandoutsError(
                f"No content folder at {config.display(config.content_dir)}; "
                "put articles there or name them on the command line"
            )
        paths = [config.content_dir]
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            if path.suffix.lower() not in SUFFIXES:
                raise HandoutsError(
                    f"Don't know how to read '{given}' (supported: {', '.join(SUFFIXES)})"
                )
            found.append(path)
        else:
            raise HandoutsError(f"Path '{given}' does not exist")
    workspace = config.workspace.resolve()
    outside = [p for p in found if not p.resolve().is_relative_to(workspace)]
    if outside:
        # A link in content/ pointing elsewhere would read files the workspace does
        # not own; an article named from elsewhere belongs in the workspace first.
        names = ", ".join(f"'{p}'" for p in outside[:3])
        raise HandoutsError(
            f"{names} {'is' if len(outside) == 1 else 'are'} outside the workspace "
            f"'{config.display(workspace)}' (or a link to a file outside it); copy the "
            "article into content/, or choose the workspace with -w"
        )
    return list(dict.fromkeys(p.resolve() for p in found))


def build(
    config: Config,
    paths: Sequence[str | Path] = (),
    *,
    template: str | None = None,
    strict: bool = False,
    jobs: int | None = None,
    packs: bool = True,
    pack: str | None = None,
    large_print: bool = False,
    booklet: bool = False,
    paper: str | None = None,
    fail_fast: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Render one PDF per article into ``config.output``, then the packs.

    Never raises for a bad article: its failure is in the result. Packs are
    made when the whole content folder is built (no ``paths``), unless
    ``packs`` is false; ``pack`` builds only that pack and its leaflets.
    ``large_print`` makes the large-print versions instead (18 pt,
    ``-large-print.pdf``); ``paper`` another paper size than the configured
    one (``-a5.pdf``); ``booklet`` makes A5 leaflets and packs and imposes
    each as a booklet on A4 (``-booklet.pdf``). ``fail_fast`` stops at the
    first article that fails; nothing half-made is left behind.
    """
    with Session(jobs) as session:
        return session.build(
            config, paths, template=template, strict=strict, packs=packs, pack=pack,
            large_print=large_print, booklet=booklet, paper=paper, fail_fast=fail_fast,
            progress=progress,
        )  # fmt: skip


class Session:
    """Builds one after another with the same rendering workers (``handouts watch``).

    A new process per build spends half a second loading WeasyPrint before it
    lays out a page; a session pays that once, so after an edit only the
    changed leaflet and its packs cost anything. Close it (or use ``with``)
    to stop the workers.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or default_jobs()
        self._workers: Workers | None = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def build(
        self,
        config: Config,
        paths: Sequence[str | Path] = (),
        *,
        template: str | None = None,
        strict: bool = False,
        packs: bool = True,
        pack: str | None = None,
        large_print: bool = False,
        booklet: bool = False,
        paper: str | None = None,
        fail_fast: bool = False,
        progress: Progress | None = None,
    ) -> BuildResult:
        """Like :func:`build`, with this session's workers."""
        run = _Build(
            config, template, strict, progress or Progress(),
            large_print=large_print, booklet=booklet, paper=paper, workers=self._pool(config),
        )  # fmt: skip
        run.fail_fast = fail_fast
        return run.run(paths, packs=packs, only_pack=pack, pdf=True)

    def warm(self, config: Config) -> None:
        """Load now what the next build would otherwise load first (about half a second).

        A worker with WeasyPrint, the default template's fonts and stylesheets
        (by laying out a line with them), the PDF assembler, and the reading-level
        dictionary: so the first change after a watch starts is as quick as the rest.
        """
        from . import assemble  # noqa: F401  (pikepdf, for packs)

        preload_readability()
        template = find_template(config.template, config)
        html = '<html lang="en"><body><h1>Ready</h1><p>Ready.</p></body></html>'
        task = Task(
            "warm-up", html, template.directory.as_uri() + "/", template.stylesheets,
            config.pdf_variant,
        )  # fmt: skip
        for _ in self._pool(config).run([task]):
            pass  # only loading mattered; the page is thrown away

    def _pool(self, config: Config) -> Workers:
        """The workers, replaced if the config changed what they may read or spend."""
        roots = [config.workspace, *template_roots(config)]
        limits = Limits(
            seconds=config.render_timeout,
            memory_mb=config.memory_limit_mb,
            pages=config.max_pages,
            tasks_per_worker=WORKER_TASKS,
        )
        current = self._workers
        if current is None or list(current.roots) != roots or current.limits != limits:
            self.close()
            current = self._workers = Workers(roots, self.jobs, limits)
        return current


def check(
    config: Config,
    paths: Sequence[str | Path] = (),
    *,
    template: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Read and validate every article and render its HTML, without making PDFs."""
    return _Build(config, template, strict, progress or Progress()).run(
        paths, packs=False, only_pack=None, pdf=False
    )


def make_adhoc_pack(
    config: Config,
    articles: Sequence[str],
    target: Path,
    *,
    title: str,
    note: str | None = None,
    duplex: bool | None = None,
    jobs: int | None = None,
    large_print: bool = False,
    booklet: bool = False,
    paper: str | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the named leaflets (slugs, patterns or files) and one pack of them at ``target``.

    For one patient: the note is printed on the cover and stored nowhere else.
    With ``booklet``, ``target`` is the pack imposed as an A5 booklet on A4.
    """
    with Session(jobs) as session:
        run = _Build(
            config, None, False, progress or Progress(),
            large_print=large_print, booklet=booklet, paper=paper, workers=session._pool(config),
        )  # fmt: skip
        return run.adhoc(
            articles, target, title=title, note=note,
            duplex=config.duplex if duplex is None else duplex,
        )  # fmt: skip


# -- the work ------------------------------------------------------------------------------


@dataclass
class _Planned:
    """A readable article and what the build decided to do with it."""

    article: Article
    shown: str
    variant: Variant
    stem: str
    """Output name and cache name of this variant of the leaflet."""
    text: str
    """The article's words without markup, for the reading level and the length check."""
    warnings: list[Finding] = field(default_factory=list)
    reading: Readability | None = None
    source_key: str | None = None
    """The hash the article was read (or found in the cache) under."""
    inputs: str | None = None
    """What this variant's HTML is made from; matched against the cache to skip templating."""
    template_warnings: tuple[str, ...] = ()
    key: str | None = None
    task: Task | None = None
    result: LeafletResult | None = None


class _Build:
    def __init__(
        self,
        config: Config,
        template: str | None,
        strict: bool,
        progress: Progress,
        *,
        large_print: bool = False,
        booklet: bool = False,
        paper: str | None = None,
        workers: Workers | None = None,
    ) -> None:
        self.config = config
        self.template = template
        self.strict = strict
        self.progress = progress
        self.large_print = large_print
        """This run makes large-print versions only (``--large-print``)."""
        self.booklet = booklet
        # A booklet folds A4 in half: its pages are A5, whatever the usual paper.
        # Another paper than the configured one gives files of their own (flu-a5.pdf).
        self.paper = "A5" if booklet else (parse_paper(paper) if paper else config.paper)
        self.started = time.perf_counter()
        self.renderer = Renderer(config)
        self.templates: dict[str, Template] = {}
        self.fail_fast = False
        self._workers = workers
        """Given by the :class:`Session` that stops them; ``None`` for ``check`` (no PDFs)."""
        self._scoring: threading.Thread | None = None
        self._record_of_last: Cache | None = None
        self._templates_hash: str | None = None
        self._sizing: dict[str, Task] = {}
        """Packs' covers and contents to lay out beside the leaflets, by pack stem."""
        self._front_sizes: dict[str, int] = {}

    # -- entry points -----------------------------------------------------------------------

    def run(
        self,
        paths: Sequence[str | Path],
        *,
        packs: bool,
        only_pack: str | None,
        pdf: bool,
    ) -> BuildResult:
        return self._run(paths, packs=packs, only_pack=only_pack, pdf=pdf)

    def _run(
        self, paths: Sequence[str | Path], *, packs: bool, only_pack: str | None, pdf: bool
    ) -> BuildResult:
        config = self.config
        files = discover(config, paths)
        if self.template is not None:
            find_template(self.template, config)  # a wrong --template stops the run up front
        items = self._read_all(files, self._cache() if pdf else None, warm=pdf)

        specs: tuple[PackSpec, ...] = ()
        members: dict[str, tuple[str, ...]] = {}
        if pdf and (only_pack is not None or (packs and not paths)):
            specs, members = self._plan_packs(items, only_pack)
            if only_pack is not None:
                wanted = set(members[only_pack])
                items = [i for i in items if _slug_of(i) in wanted]
        needs_large = {slug for spec in specs if spec.large_print for slug in members[spec.name]}
        if pdf and specs:
            self._sizing = self._front_sizing(specs, members, items)
        leaflets, cache = self._leaflets(self._variants(items, needs_large), pdf=pdf)

        pack_results: list[PackResult] = []
        if pdf and specs:
            for spec in specs:
                for large in self._pack_variants(spec):
                    variant = Variant(large, self.paper)
                    stem = variant.stem(spec.name, config.paper)
                    pack_results.append(
                        self._pack(
                            stem, spec.title, spec.note, spec.duplex, members[spec.name],
                            _by_slug(leaflets, large), cache, config.output / f"{stem}.pdf",
                            variant, self._front_sizes.get(stem),
                        )
                    )  # fmt: skip
        if pdf and self.booklet and cache is not None:
            leaflets, pack_results = self._booklets(leaflets, pack_results, cache)
        result = BuildResult(
            leaflets=leaflets,
            output_dir=config.output,
            seconds=time.perf_counter() - self.started,
            packs=tuple(pack_results),
            config_warnings=config.warnings,
            rendered=pdf,
            strict=self.strict,
        )
        if pdf and cache is not None:
            write_atomic(cache.path, cache.to_json().encode())
            self._write_manifest(result)
        return result

    def adhoc(
        self,
        names: Sequence[str],
        target: Path,
        *,
        title: str,
        note: str | None,
        duplex: bool,
    ) -> BuildResult:
        return self._adhoc(names, target, title=title, note=note, duplex=duplex)

    def _adhoc(
        self, names: Sequence[str], target: Path, *, title: str, note: str | None, duplex: bool
    ) -> BuildResult:
        config = self.config
        items = self._read_all(discover(config), self._cache())
        by_path = {(_path_of(i)): i for i in items}
        chosen: list[_Planned | LeafletResult] = []
        unknown = []
        for name in names:
            as_path = Path(name).resolve()
            if as_path in by_path:
                matched = [by_path[as_path]]
            else:
                matched = [i for i in items if _matches(_slug_of(i), name)]
            if not matched:
                unknown.append(name)
            chosen.extend(m for m in matched if m not in chosen)
        if unknown:
            known = ", ".join(sorted(filter(None, (_slug_of(i) for i in items)))[:8])
            raise HandoutsError(
                f"No article named {', '.join(repr(u) for u in unknown)} "
                f"in {config.display(config.content_dir)} (articles include: {known})"
            )
        slugs = tuple(_slug_of(i) or "" for i in chosen)
        leaflets, cache = self._leaflets(self._variants(chosen, set()), pdf=True)
        assert cache is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        variant = Variant(self.large_print, self.paper)
        by_slug = _by_slug(leaflets, self.large_print)
        made = self._pack(target.stem, title, note, duplex, slugs, by_slug, None, target, variant)
        if self.booklet and made.ok and made.pdf is not None:
            from .assemble import impose_booklet

            write_atomic(target, impose_booklet(made.pdf))
            made = replace(made, booklet=target)
        write_atomic(cache.path, cache.to_json().encode())
        return BuildResult(
            leaflets=leaflets,
            output_dir=config.output,
            seconds=time.perf_counter() - self.started,
            packs=(made,),
            config_warnings=config.warnings,
        )

    def _leaflets(
        self, items: list[_Planned | LeafletResult], *, pdf: bool
    ) -> tuple[tuple[LeafletResult, ...], Cache | None]:
        """Check and render the planned leaflets; every item's result, in order."""
        readable = [i for i in items if isinstance(i, _Planned)]
        if self.progress.planned:
            self.progress.planned(len(items))
        for failed in (i for i in items if isinstance(i, LeafletResult)):
            self._report(failed)
        cache = None
        if pdf:
            _make_output_dir(self.config.output)
            cache = self._cache()
        self._check_quality(readable, cache, wait=self.strict or not pdf)
        if self.fail_fast and len(readable) < len(items):
            for item in readable:
                self._finish(item, error=f"{item.shown}: not built: stopped at the first failure")
        else:
            self._render_all(readable, cache, pdf)
        results = [i if isinstance(i, LeafletResult) else i.result for i in items]
        assert all(r is not None for r in results)  # every planned item was finished
        return tuple(r for r in results if r is not None), cache

    # -- reading and planning ----------------------------------------------------------------

    def _cache(self) -> Cache:
        """The record of the last build in the output folder, opened once per build."""
        if self._record_of_last is None:
            self._record_of_last = Cache(self.config.output)
        return self._record_of_last

    def _read_all(
        self, files: Sequence[Path], cache: Cache | None = None, *, warm: bool = False
    ) -> list[_Planned | LeafletResult]:
        """Read every article before writing anything: slug clashes need them all.

        With a ``cache``, an article whose file (and config) has not changed
        since the last build is taken from it instead of being parsed again.
        With ``warm``, rendering workers start loading WeasyPrint (half a
        second) while the new or changed articles are read.
        """
        items: list[_Planned | LeafletResult] = []
        owners: dict[str, Article] = {}
        # The config's own warnings name files from the current folder: left out.
        context = fingerprint(library_fingerprint(), repr(replace(self.config, warnings=())))
        limit = self.config.max_article_kb * 1000
        shown = {path: self.config.display(path) for path in files}
        keys = {path: cache.article_key(path, context, limit) for path in files} if cache else {}
        kept = {
            path: cache.article(path, key, shown[path])
            for path, key in keys.items()
            if cache and key
        }
        changed = sum(1 for path in files if kept.get(path) is None)
        if warm and changed:
            self._pool().warm(changed)
        for path in files:
            key = keys.get(path)
            article = kept.get(path)
            if article is None:
                try:
                    article = read_article(path, self.config)
                except HandoutsError as err:
                    items.append(LeafletResult(
                        shown[path], slug=slugify(path.stem, str(path)), error=err.message
                    ))  # fmt: skip
                    continue
                if cache and key:
                    cache.keep_article(path, key, article, shown[path])
            if (owner := owners.get(article.slug)) is not None:
                items.append(
                    LeafletResult(
                        shown[path],
                        slug=None,
                        title=article.title,
                        warnings=article.warnings,
                        error=(
                            f"{shown[path]}: leaflet name '{article.slug}' is already used by "
                            f"{self.config.display(owner.source_path)}; "
                            "give one a different 'slug:'"
                        ),
                    )
                )
                continue
            owners[article.slug] = article
            variant = Variant(False, self.paper)
            stem = variant.stem(article.slug, self.config.paper)
            items.append(
                _Planned(
                    article, shown[path], variant, stem, plain_text(article.body_html),
                    list(article.warnings), source_key=key,
                )
            )  # fmt: skip
        return items

    def _variants(
        self, items: list[_Planned | LeafletResult], needs_large: set[str]
    ) -> list[_Planned | LeafletResult]:
        """One planned item per leaflet variant: standard, large print, or both."""
        expanded: list[_Planned | LeafletResult] = []
        for item in items:
            if not isinstance(item, _Planned):
                expanded.append(item)
                continue
            slug = item.article.slug
            if self.large_print:
                sizes = [True]
            else:
                sizes = [False]
                if item.article.large_print or slug in needs_large:
                    sizes.append(True)
            for large in sizes:
                variant = Variant(large, self.paper)
                expanded.append(
                    replace(
                        item,
                        variant=variant,
                        stem=variant.stem(slug, self.config.paper),
                        warnings=list(item.warnings),
                    )
                )
        return expanded

    def _booklets(
        self,
        leaflets: Sequence[LeafletResult],
        packs: list[PackResult],
        cache: Cache,
    ) -> tuple[tuple[LeafletResult, ...], list[PackResult]]:
        """Impose every leaflet and pack this run made as an A5 booklet on A4 sheets."""
        from .assemble import impose_booklet

        def make(pdf: Path, sha: str, stem: str) -> Path:
            target = self.config.output / f"{stem}-booklet.pdf"
            name = f"booklet:{stem}"
            if cache.lookup(name, sha, target) is None:
                write_atomic(target, impose_booklet(pdf))
                cache.store(name, CacheEntry(key=sha, sha256=file_sha256(target), pages=0))
            return target

        def stem_of(name: str, large: bool) -> str:
            # Named as the usual leaflet would be, not its A5 version: "flu-booklet".
            return Variant(large, self.config.paper).stem(name, self.config.paper)

        made_leaflets = tuple(
            replace(r, booklet=make(r.pdf, r.sha256, stem_of(r.slug, r.large_print)))
            if r.ok and r.pdf and r.sha256 and r.slug
            else r
            for r in leaflets
        )
        suffix = f"-{self.paper.lower()}"
        made_packs = [
            replace(p, booklet=make(p.pdf, p.sha256, p.name.removesuffix(suffix)))
            if p.ok and p.pdf and p.sha256
            else p
            for p in packs
        ]
        return made_leaflets, made_packs

    def _front_sizing(
        self,
        specs: Sequence[PackSpec],
        members: dict[str, tuple[str, ...]],
        items: Sequence[_Planned | LeafletResult],
    ) -> dict[str, Task]:
        """Tasks that lay out each new pack's cover and contents with placeholder numbers.

        The contents list the page each leaflet starts on, which depends on
        how many pages the cover and contents take. Laying them out once
        while the leaflets are rendered tells that length (the page-number
        column has a fixed width, so the numbers cannot change it), and the
        pack step then lays them out only once more, with the real numbers.
        A pack made before knows its length from last time and needs none.
        """
        cache = self._cache()
        titles = {i.article.slug: i.article.title for i in items if isinstance(i, _Planned)}
        template = self._template(self.config.template)
        front = PackFront(self.renderer, template)
        printed = build_date()
        tasks: dict[str, Task] = {}
        for spec in specs:
            for large in self._pack_variants(spec):
                variant = Variant(large, self.paper)
                stem = variant.stem(spec.name, self.config.paper)
                previous = cache.entries.get(f"pack:{stem}")
                if previous is not None and previous.front_pages:
                    continue
                html = front_html(
                    front, title=spec.title, note=spec.note, printed=printed,
                    titles=[titles.get(s, s) for s in members[spec.name]],
                    starts=[None] * len(members[spec.name]), duplex=spec.duplex, variant=variant,
                )  # fmt: skip
                tasks[stem] = Task(
                    f"{FRONT_SIZE}{stem}", html, template.directory.as_uri() + "/",
                    template.stylesheets, self.config.pdf_variant,
                )  # fmt: skip
        return tasks

    def _pack_variants(self, spec: PackSpec) -> list[bool]:
        """Large print or not, for each version of a pack this run makes."""
        if self.large_print:
            return [True]
        return [False, True] if spec.large_print else [False]

    def _plan_packs(
        self, items: Sequence[_Planned | LeafletResult], only: str | None
    ) -> tuple[tuple[PackSpec, ...], dict[str, tuple[str, ...]]]:
        slugs = [s for s in (_slug_of(i) for i in items) if s]
        specs = pack_specs(self.config, slugs)
        if only is not None:
            specs = tuple(s for s in specs if s.name == only)
            if not specs:
                names = ", ".join(s.name for s in pack_specs(self.config, slugs))
                raise HandoutsError(f"No pack named '{only}'. Packs: {names}")
        return specs, resolve_members(specs, slugs, self.config)

    def _check_quality(self, planned: list[_Planned], cache: Cache | None, *, wait: bool) -> None:
        """Attribution, review dates and reading level: warnings on each article.

        Scoring text the first time loads a pronouncing dictionary (about a
        second), so new scores are worked out in a thread while the workers
        render, and joined in ``_join_scores``; ``wait`` joins at once (for
        ``--strict`` and ``check``, which need the findings before deciding).
        """
        today = build_date()
        unscored: dict[str, list[_Planned]] = {}
        for item in planned:
            article = item.article
            item.warnings.extend(quality_findings(article, item.shown, today=today))
            key = text_key(item.text)
            if cache is not None and key in cache.readability:
                item.reading = Readability(*cache.readability[key])
            else:
                unscored.setdefault(key, []).append(item)
        if not unscored:
            return

        def score() -> None:
            for key, items in unscored.items():
                article = items[0].article
                reading = readability(items[0].text, article.language)
                if cache is not None and reading is not None:
                    cache.readability[key] = (reading.grade, reading.ease)
                for item in items:
                    item.reading = reading  # the finding is added on the main thread

        self._scoring = threading.Thread(target=score, name="readability", daemon=True)
        self._scoring.start()
        if wait:
            self._join_scores()

    def _warnings(self, item: _Planned) -> list[Finding]:
        """An item's warnings, with the reading-level one once its score is known."""
        self._join_scores()
        finding = reading_finding(item.reading, item.shown, self.config.max_reading_grade)
        return [*item.warnings, finding] if finding else list(item.warnings)

    def _join_scores(self) -> None:
        if self._scoring is not None:
            self._scoring.join()
            self._scoring = None

    # -- rendering -------------------------------------------------------------------------

    def _template_files(self, cache: Cache) -> str:
        """One hash of every file in the template folders, worked out once per build."""
        if self._templates_hash is None:
            self._templates_hash = cache.tree_hash(template_roots(self.config))
        return self._templates_hash

    def _template(self, name: str) -> Template:
        """Resolve a template once per build."""
        if name not in self.templates:
            self.templates[name] = find_template(name, self.config)
        return self.templates[name]

    def _pool(self) -> Workers:
        assert self._workers is not None, "only builds that make PDFs render, given a Session"
        return self._workers

    def _render_front(self, html: str, base_url: str, template: Template) -> tuple[bytes, int]:
        """Render a pack's cover and contents in a worker; the PDF and its page count."""
        task = Task("pack front", html, base_url, template.stylesheets, self.config.pdf_variant)
        [outcome] = list(self._pool().run([task]))
        if outcome.error or outcome.data is None:
            raise PdfError(f"the cover and contents could not be made: {outcome.error}")
        return outcome.data, outcome.pages

    def _render_all(self, planned: list[_Planned], cache: Cache | None, pdf: bool) -> None:
        """Decide per leaflet: failed, reused or to render; render in parallel.

        Tasks go to the workers as soon as each leaflet's HTML is ready, so the
        workers lay out the first leaflets while the rest are still templated.
        """
        if not pdf or cache is None:
            for item in planned:
                self._plan_one(item, None)
            return
        if self.progress.notice and not subset_library_present():
            self.progress.notice(
                "the HarfBuzz subset library (Debian: libharfbuzz-subset0) is missing, so "
                "rendering is several times slower; see 'handouts doctor'"
            )
        waiting: dict[str, _Planned] = {}

        def tasks() -> Iterator[Task]:
            for item in planned:
                task = self._plan_one(item, cache)
                if task is not None:
                    waiting[item.stem] = item
                    yield task
            if waiting:  # workers are busy anyway: measure the new packs' fronts too
                yield from self._sizing.values()

        def stop(outcome: Outcome) -> bool:
            return self.fail_fast and outcome.error is not None

        for outcome in self._pool().run(tasks(), stop=stop):
            if outcome.key in waiting:
                self._record(waiting.pop(outcome.key), outcome, cache)
            elif outcome.error is None:  # a measured front; if it failed, the pack says why
                self._front_sizes[outcome.key.removeprefix(FRONT_SIZE)] = outcome.pages
        for item in planned:
            if item.result is None:  # never started: --fail-fast stopped the build
                self._finish(item, error=f"{item.shown}: not built: stopped at the first failure")

    def _plan_one(self, item: _Planned, cache: Cache | None) -> Task | None:
        """Template one leaflet; finish it here (failed, checked, reused) or return its task."""
        config = self.config
        article = item.article
        name = self.template or article.template or config.template
        target = config.output / f"{item.stem}.pdf"
        if cache is not None and item.source_key is not None:
            item.inputs = fingerprint(
                item.source_key, name, self._template_files(cache),
                str(item.variant.large_print), item.variant.paper, str(config.pdf_variant),
            )  # fmt: skip
            entry = cache.entries.get(item.stem)
            if (
                entry is not None
                and entry.inputs == item.inputs
                and cache.lookup(item.stem, entry.key, target) is not None
            ):
                # Made from these very inputs last time: no need to template it again.
                self._reuse(item, entry, target, entry.template_warnings)
                return None
        try:
            leaflet = self.renderer.render(article, self._template(name), item.variant)
        except HandoutsError as err:
            message = (
                err.message if isinstance(err, ContentError) else f"{item.shown}: {err.message}"
            )
            self._finish(item, error=message)
            return None
        item.template_warnings = leaflet.warnings
        if cache is not None:
            item.key = cache.key(
                html=leaflet.html,
                stylesheets=leaflet.template.stylesheets,
                options={"pdf_variant": config.pdf_variant},
            )
            entry = cache.lookup(item.stem, item.key, target)
            if entry is not None:
                cache.store(item.stem, replace(
                    entry, inputs=item.inputs or "", template_warnings=leaflet.warnings
                ))  # fmt: skip
                self._reuse(item, entry, target, leaflet.warnings)
                return None
        item.warnings.extend(Finding(item.shown, w) for w in leaflet.warnings)
        if self.strict and (warnings := self._warnings(item)):
            self._finish(item, error=self._strict_error(item, warnings))
            return None
        if (estimate := _estimated_pages(item.text, item.variant)) > 2 * config.max_pages:
            # Refused before layout: laying out hundreds of pages to find out
            # would take minutes of the batch.
            self._finish(
                item,
                error=(
                    f"{item.shown}: about {estimate} pages of text, more than a leaflet should "
                    f"be (the limit is {config.max_pages}; raise leaflets.max_pages in "
                    "handouts.yaml if it is right)"
                ),
            )
            return None
        if cache is None:
            self._finish(item)  # checked, not rendered
            return None
        item.task = Task(
            item.stem,
            leaflet.html,
            leaflet.base_url,
            leaflet.template.stylesheets,
            config.pdf_variant,
            target,
            self.strict,
        )
        return item.task

    def _reuse(
        self, item: _Planned, entry: CacheEntry, target: Path, template_warnings: Sequence[str]
    ) -> None:
        """Finish an item with the PDF the last build made, and the warnings it had then."""
        item.warnings.extend(Finding(item.shown, w) for w in template_warnings)
        item.warnings.extend(Finding(item.shown, w) for w in entry.warnings)
        if self.strict and (warnings := self._warnings(item)):
            # The PDF stays for the builds that allow warnings; this one refuses it.
            self._finish(item, error=self._strict_error(item, warnings))
            return
        self._finish(item, pdf=target, pages=entry.pages, sha=entry.sha256, reused=True)

    def _strict_error(self, item: _Planned, warnings: Sequence[Finding]) -> str:
        return f"{item.shown}: {len(warnings)} warning(s), and --strict is on"

    def _record(self, item: _Planned, outcome: Outcome, cache: Cache) -> None:
        rendering_warnings = list(outcome.warnings)
        if outcome.missing_glyphs:
            rendering_warnings.append(missing_glyphs_warning(
                outcome.missing_glyphs, item.article.language
            ))  # fmt: skip
        item.warnings.extend(Finding(item.shown, w) for w in rendering_warnings)
        if outcome.error is not None:
            cache.forget(item.stem)
            error = outcome.error or (
                f"{item.shown}: {len(item.warnings)} warning(s), and --strict is on"
            )
            if not error.startswith(item.shown):
                error = f"{item.shown}: {error}"
            self._finish(item, error=error)
            return
        assert item.task is not None
        assert item.key is not None
        assert outcome.sha256 is not None
        cache.store(
            item.stem,
            CacheEntry(
                key=item.key,
                sha256=outcome.sha256,
                pages=outcome.pages,
                warnings=tuple(rendering_warnings),
                dependencies=cache.dependencies(outcome.dependencies),
                inputs=item.inputs or "",
                template_warnings=tuple(item.template_warnings),
            ),
        )
        self._finish(item, pdf=item.task.target, pages=outcome.pages, sha=outcome.sha256)

    def _finish(
        self,
        item: _Planned,
        *,
        error: str | None = None,
        pdf: Path | None = None,
        pages: int = 0,
        sha: str | None = None,
        reused: bool = False,
    ) -> None:
        article = item.article
        warnings = self._warnings(item)  # waits for the reading score if need be
        reading = item.reading
        item.result = LeafletResult(
            item.shown, article.slug, article.title, pdf, pages, tuple(warnings),
            error, reused, sha,
            reading.grade if reading else None, reading.ease if reading else None,
            item.stem, item.variant.large_print,
        )  # fmt: skip
        self._report(item.result)

    def _report(self, result: LeafletResult) -> None:
        if self.progress.leaflet:
            self.progress.leaflet(result)

    # -- packs -----------------------------------------------------------------------------

    def _pack(
        self,
        name: str,
        title: str,
        note: str | None,
        duplex: bool,
        slugs: Sequence[str],
        by_slug: dict[str, LeafletResult],
        cache: Cache | None,
        target: Path,
        variant: Variant,
        front_pages: int | None = None,
    ) -> PackResult:
        held_back = [by_slug[s].source for s in slugs if s in by_slug and not by_slug[s].ok]
        if held_back or not slugs:
            reason = (
                f"held back by {', '.join(held_back)}, which failed" if held_back
                else "it has no leaflets"
            )  # fmt: skip
            result = PackResult(
                name, title, tuple(slugs), error=f"pack '{name}' not written: {reason}"
            )
        else:
            leaflets = []
            for slug in slugs:
                leaflet = by_slug[slug]
                assert leaflet.pdf is not None
                assert leaflet.sha256 is not None
                leaflets.append(
                    (slug, leaflet.title or slug, leaflet.pdf, leaflet.pages, leaflet.sha256)
                )
            template = self._template(self.config.template)
            try:
                result = make_pack(
                    name=name, title=title, note=note, duplex=duplex, leaflets=leaflets,
                    front=PackFront(self.renderer, template), printed=build_date(),
                    render=self._render_front, target=target, cache=cache,
                    write=write_atomic, pdf_variant=self.config.pdf_variant, variant=variant,
                    front_pages=front_pages,
                )  # fmt: skip
            except HandoutsError as err:
                result = PackResult(
                    name, title, tuple(slugs), error=f"pack '{name}': {err.message}"
                )
            except Exception as err:  # a bug in one pack must not lose the others
                logger.debug("unexpected failure making pack %s", name, exc_info=True)
                result = PackResult(
                    name, title, tuple(slugs),
                    error=f"pack '{name}': unexpected error ({type(err).__name__}: {err}); "
                    "please report it",
                )  # fmt: skip
        if self.progress.pack:
            self.progress.pack(result)
        return result

    # -- manifest --------------------------------------------------------------------------

    def _write_manifest(self, result: BuildResult) -> None:
        """``manifest.json``: what each PDF is, so other tools need not parse PDFs.

        A build of some articles updates their entries and keeps the others
        whose PDFs still exist.
        """
        output = self.config.output
        path = output / MANIFEST
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
            old_leaflets = {e["name"]: e for e in previous.get("leaflets", []) if "name" in e}
            old_packs = {e["name"]: e for e in previous.get("packs", []) if "name" in e}
        except (OSError, ValueError, AttributeError, TypeError):
            old_leaflets, old_packs = {}, {}
        leaflets = {
            slug: entry for slug, entry in old_leaflets.items()
            if isinstance(entry.get("pdf"), str) and (output / entry["pdf"]).is_file()
        }  # fmt: skip
        for leaflet in result.leaflets:
            if not leaflet.ok or not leaflet.name or leaflet.pdf is None:
                continue
            leaflets[leaflet.name] = {
                "name": leaflet.name,
                "slug": leaflet.slug,
                "large_print": leaflet.large_print,
                "booklet": leaflet.booklet.name if leaflet.booklet else None,
                "source": leaflet.source,
                "pdf": leaflet.pdf.name,
                "title": leaflet.title,
                "pages": leaflet.pages,
                "sha256": leaflet.sha256,
                "warnings": [f.message for f in leaflet.warnings],
                "reading_grade": leaflet.reading_grade,
                "reading_ease": leaflet.reading_ease,
            }
        packs = {
            name: entry for name, entry in old_packs.items()
            if isinstance(entry.get("pdf"), str) and (output / entry["pdf"]).is_file()
        }  # fmt: skip
        for pack in result.packs:
            if not pack.ok or pack.pdf is None:
                continue
            packs[pack.name] = {
                "name": pack.name,
                "booklet": pack.booklet.name if pack.booklet else None,
                "pdf": pack.pdf.name,
                "title": pack.title,
                "pages": pack.pages,
                "sha256": pack.sha256,
                "leaflets": [
                    {"slug": slug, "start_page": start}
                    for slug, start in zip(pack.slugs, pack.starts, strict=True)
                ],
            }
        manifest = {
            "generator": f"handouts {__version__}",
            "leaflets": [leaflets[k] for k in sorted(leaflets)],
            "packs": [packs[k] for k in sorted(packs)],
        }
        write_atomic(path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())


CHARACTERS_PER_PAGE = {False: 3000, True: 1500}
"""Generous: an A4 page of 14 pt text holds about 2,500 characters, of 18 pt about 1,500."""


def _estimated_pages(text: str, variant: Variant) -> int:
    """A quick lower-bound guess of a leaflet's length, from its text alone."""
    size = CHARACTERS_PER_PAGE[variant.large_print]
    if variant.paper == "A5":
        size //= 2
    return len(text) // size + 1


def _by_slug(leaflets: Iterable[LeafletResult], large: bool) -> dict[str, LeafletResult]:
    """Each article's result in one type size: the leaflets a pack of that size uses."""
    found: dict[str, LeafletResult] = {}
    for leaflet in leaflets:
        if not leaflet.slug:
            continue
        if leaflet.large_print == large or not leaflet.ok:
            # A failed article has one result for every size: it holds back both packs.
            found.setdefault(leaflet.slug, leaflet)
    return found


def missing_glyphs_warning(characters: str, language: str) -> str:
    """One warning for every character a leaflet prints as an empty box."""
    sample = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in characters[:5])
    more = f" and {len(characters) - 5} more" if len(characters) > 5 else ""
    return (
        f"{len(characters)} character(s) of this {language} article have no font and would "
        f"print as empty boxes: {sample}{more}; install fonts for the language "
        "(see 'handouts doctor')"
    )


def _slug_of(item: _Planned | LeafletResult) -> str | None:
    return item.article.slug if isinstance(item, _Planned) else item.slug


def _path_of(item: _Planned | LeafletResult) -> Path:
    if isinstance(item, _Planned):
        return item.article.source_path.resolve()
    return Path(item.source).resolve()


def _matches(slug: str | None, pattern: str) -> bool:
    return slug is not None and fnmatch.fnmatchcase(slug, pattern)


# -- files -----------------------------------------------------------------------------------

STALE_TEMPORARY_SECONDS = 3600


def _make_output_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HandoutsError(f"Cannot create the output folder '{path}': {err.strerror}") from None
    # A build killed mid-write (SIGKILL, power cut) leaves its hidden temporary
    # file; an hour-old one belongs to no running build.
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for stale in path.glob(".*.tmp"):
        try:
            if stale.is_file() and stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:
            pass


def init_workspace(directory: str | Path) -> list[Path]:
    """Create a workspace that ``handouts build`` renders as it is; return the files made."""
    root = Path(directory)
    if (root / CONFIG_NAME).exists():
        raise HandoutsError(f"'{root}' is already a workspace (it has {CONFIG_NAME})")
    root.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for source in sorted(STARTER.rglob("*")):
        if source.is_file():
            target = root / source.relative_to(STARTER)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            made.append(target)
    templates = root / "templates"
    for source in sorted(builtin_templates().rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            target = templates / source.relative_to(builtin_templates())
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            made.append(target)
    (root / "output").mkdir(exist_ok=True)
    return made


__all__ = [
    "CACHE_FILE",
    "MANIFEST",
    "BuildResult",
    "LeafletResult",
    "PackResult",
    "Progress",
    "build",
    "build_date",
    "check",
    "discover",
    "init_workspace",
    "make_adhoc_pack",
    "write_atomic",
]
