"""Orchestrate a build: find articles, read them all, render each, write PDFs.

A bad article never stops the others: each one is read, rendered and written
on its own, its failure recorded, and the summary lists every failure. PDFs
are written atomically, so a reader (or a printer queue) never sees half a
file, even if the build is killed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import CONFIG_NAME, Config
from .errors import ContentError, HandoutsError
from .model import Article, Finding
from .readers import SUFFIXES, read_article
from .render import Renderer, Template, builtin_templates, find_template, template_roots

if TYPE_CHECKING:  # importing WeasyPrint takes half a second; `check` never needs it
    from .pdf import PdfRenderer

logger = logging.getLogger(__name__)

STARTER = Path(__file__).parent / "starter"
"""The files ``handouts init`` copies into a new workspace, beside the templates."""


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

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build or a check."""

    leaflets: tuple[LeafletResult, ...]
    output_dir: Path
    seconds: float
    config_warnings: tuple[Finding, ...] = ()
    rendered: bool = True
    """False for ``check``, which reads and validates without making PDFs."""
    strict: bool = False

    @property
    def failed(self) -> list[LeafletResult]:
        return [r for r in self.leaflets if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed and not (self.strict and self.config_warnings)

    @property
    def warning_count(self) -> int:
        return len(self.config_warnings) + sum(len(r.warnings) for r in self.leaflets)

    def summary(self) -> str:
        """One line: what was made, where, how long it took, and what failed."""
        total = len(self.leaflets)
        good = total - len(self.failed)
        noun = "leaflet" if total == 1 else "leaflets"
        if self.rendered:
            counted = f"{good} {noun}" if good == total else f"{good} of {total} {noun}"
            line = f"Built {counted} in {_shown(self.output_dir)} in {self.seconds:.1f} s"
        else:
            counted = f"{total} {noun}"
            line = f"Checked {counted}: {good} ok"
        if self.warning_count:
            line += f", {self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        if self.failed:
            names = ", ".join(r.source for r in self.failed)
            line += f"; {len(self.failed)} failed: {names}"
        elif self.strict and self.config_warnings:
            line += "; failed: configuration warnings under --strict"
        return line + "."


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) + "/"
    except ValueError:
        return str(path) + "/"


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
    return list(dict.fromkeys(p.resolve() for p in found))


def build(
    config: Config,
    paths: Sequence[str | Path] = (),
    *,
    template: str | None = None,
    strict: bool = False,
    on_result: Callable[[LeafletResult], None] | None = None,
) -> BuildResult:
    """Render one PDF per article into ``config.output``; never raises for a bad article."""
    return _run(config, paths, template=template, strict=strict, on_result=on_result, pdf=True)


def check(
    config: Config,
    paths: Sequence[str | Path] = (),
    *,
    template: str | None = None,
    strict: bool = False,
    on_result: Callable[[LeafletResult], None] | None = None,
) -> BuildResult:
    """Read and validate every article and render its HTML, without making PDFs."""
    return _run(config, paths, template=template, strict=strict, on_result=on_result, pdf=False)


def _run(
    config: Config,
    paths: Sequence[str | Path],
    *,
    template: str | None,
    strict: bool,
    on_result: Callable[[LeafletResult], None] | None,
    pdf: bool,
) -> BuildResult:
    started = time.perf_counter()
    files = discover(config, paths)
    if template is not None:
        find_template(template, config)  # a wrong --template fails the whole run, up front
    # Read and validate everything before writing anything: slug clashes are
    # only visible once every article has been read.
    articles, results = _read_all(files, config)
    renderer = Renderer(config)
    pdf_renderer = _pdf_renderer(config) if pdf and articles else None
    if pdf:
        _make_output_dir(config.output)
    templates: dict[str, Template] = {}
    done: list[LeafletResult] = []
    for item in results:
        if isinstance(item, LeafletResult):
            done.append(item)
        else:
            done.append(
                _build_one(item, config, renderer, pdf_renderer, templates, template, strict)
            )
        if on_result is not None:
            on_result(done[-1])
    return BuildResult(
        leaflets=tuple(done),
        output_dir=config.output,
        seconds=time.perf_counter() - started,
        config_warnings=config.warnings,
        rendered=pdf,
        strict=strict,
    )


def _read_all(
    files: Iterable[Path], config: Config
) -> tuple[list[Article], list[Article | LeafletResult]]:
    articles: list[Article] = []
    results: list[Article | LeafletResult] = []
    owners: dict[str, Article] = {}
    for path in files:
        shown = config.display(path)
        try:
            article = read_article(path, config)
        except HandoutsError as err:
            results.append(LeafletResult(shown, error=err.message))
            continue
        if (owner := owners.get(article.slug)) is not None:
            results.append(
                LeafletResult(
                    shown,
                    slug=article.slug,
                    title=article.title,
                    warnings=article.warnings,
                    error=(
                        f"{shown}: leaflet name '{article.slug}' is already used by "
                        f"{config.display(owner.source_path)}; give one a different 'slug:'"
                    ),
                )
            )
            continue
        owners[article.slug] = article
        articles.append(article)
        results.append(article)
    return articles, results


def _build_one(
    article: Article,
    config: Config,
    renderer: Renderer,
    pdf_renderer: PdfRenderer | None,
    templates: dict[str, Template],
    override: str | None,
    strict: bool,
) -> LeafletResult:
    shown = config.display(article.source_path)
    warnings = list(article.warnings)
    name = override or article.template or config.template

    def failed(message: str) -> LeafletResult:
        return LeafletResult(
            shown, article.slug, article.title, warnings=tuple(warnings), error=message
        )

    try:
        if name not in templates:
            templates[name] = find_template(name, config)
        leaflet = renderer.render(article, templates[name])
        if pdf_renderer is None:
            if strict and warnings:
                return failed(f"{shown}: {len(warnings)} warning(s), and --strict is on")
            return LeafletResult(shown, article.slug, article.title, warnings=tuple(warnings))
        made = pdf_renderer.render(
            leaflet.html,
            base_url=leaflet.base_url,
            stylesheets=leaflet.template.stylesheets,
            pdf_variant=None,
        )
        warnings.extend(Finding(shown, message) for message in made.warnings)
        if strict and warnings:
            return failed(f"{shown}: {len(warnings)} warning(s), and --strict is on")
        target = config.output / f"{article.slug}.pdf"
        write_atomic(target, made.data)
    except ContentError as err:
        return failed(err.message)
    except HandoutsError as err:
        return failed(f"{shown}: {err.message}")
    except Exception as err:  # one article's bug must not stop the batch
        logger.debug("unexpected failure building %s", shown, exc_info=True)
        return failed(f"{shown}: unexpected error ({type(err).__name__}: {err}); please report it")
    return LeafletResult(shown, article.slug, article.title, target, made.pages, tuple(warnings))


def _pdf_renderer(config: Config) -> PdfRenderer:
    from .pdf import PdfRenderer

    return PdfRenderer([config.workspace, *template_roots(config)])


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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always whole: old file or new file.

    ``os.replace`` swaps the directory entry, so a symlink planted at ``path``
    is replaced rather than written through.
    """
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp"
    )
    try:
        # mkstemp creates the file private (0600); a leaflet is for sharing, so
        # give it the permissions any other new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(descriptor, 0o666 & ~umask)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
    "BuildResult",
    "LeafletResult",
    "build",
    "check",
    "discover",
    "init_workspace",
    "write_atomic",
]
