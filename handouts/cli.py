"""The ``handouts`` command: a thin layer over the library API."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__
from .build import (
    BuildResult,
    LeafletResult,
    Progress,
    Session,
    build,
    check,
    init_workspace,
    make_adhoc_pack,
)
from .config import PDF_VARIANTS, Config, display_path, load_config
from .errors import HandoutsError
from .packs import PackResult
from .watch import POLL_SECONDS, watch

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

WORKSPACE_HELP = "Workspace folder holding handouts.yaml, content/ and templates/ [default: .]"
JOBS_HELP = "Leaflets to render at once [default: all cores]"


def _echo_findings(result: LeafletResult) -> None:
    for finding in result.warnings:
        click.echo(f"warning: {finding}", err=True)
    if result.error:
        click.echo(f"error: {result.error}", err=True)


def _echo_pack(result: PackResult) -> None:
    if result.error:
        click.echo(f"error: {result.error}", err=True)


def _notice(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


_PRINT_OPTIONS = (
    click.option("--pdf-variant", type=click.Choice([*PDF_VARIANTS, "none"]), default=None,
                 help="PDF standard to write [default: pdf/ua-1, tagged and accessible]"),
    click.option("--large-print", is_flag=True,
                 help="Large print: the same text re-flowed at 18 pt (-large-print.pdf)"),
    click.option("--paper", type=click.Choice(["A4", "A5", "Letter"], case_sensitive=False),
                 default=None, help="Paper size [default: from handouts.yaml, else A4]"),
    click.option("--booklet", is_flag=True,
                 help="A5 pages two-up on A4 landscape: print double-sided, fold once"),
)  # fmt: skip


def _print_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that choose how leaflets are printed, shared by build and pack."""
    for option in reversed(_PRINT_OPTIONS):
        command = option(command)
    return command


_BUILD_OPTIONS = (
    click.option(
        "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
    ),
    click.option(
        "-o", "--output", type=click.Path(path_type=Path), default=None,
        help="Folder for the PDFs [default: the workspace's output/]",
    ),
    click.option("--template", default=None, help="Use this template for every article"),
    click.option(
        "--strict", is_flag=True, help="Treat warnings as errors: nothing with a warning is built"
    ),
    click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=JOBS_HELP),
    click.option("--no-pack", "no_pack", is_flag=True, help="Make leaflets only, no packs"),
    click.option(
        "--pack", "pack", default=None, metavar="NAME",
        help="Build only this pack (from handouts.yaml) and its leaflets",
    ),
)  # fmt: skip


def _build_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that choose what a build makes and where, shared by build and watch."""
    for option in reversed(_BUILD_OPTIONS):
        command = option(command)
    return command


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """Findings as they come; on a terminal, a progress bar and the findings after it."""
    if quiet or not sys.stderr.isatty():
        yield Progress(leaflet=_echo_findings, pack=_echo_pack, notice=_notice)
        return
    held: list[LeafletResult] = []
    notices: list[str] = []
    state: dict[str, Any] = {}

    def planned(total: int) -> None:
        state["bar"] = click.progressbar(
            length=total, label="Building leaflets", file=sys.stderr, show_pos=True
        )
        state["bar"].__enter__()

    def leaflet(result: LeafletResult) -> None:
        held.append(result)
        if "bar" in state:
            state["bar"].update(1)

    try:
        yield Progress(planned=planned, leaflet=leaflet, pack=_echo_pack, notice=notices.append)
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
        for message in notices:
            _notice(message)
        for result in held:
            _echo_findings(result)


def _finish(result: BuildResult) -> None:
    click.echo(result.summary())
    if not result.ok:
        # Each failure is already printed; exit 1 without repeating them.
        raise SystemExit(1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="handouts")
def cli() -> None:
    """Turn health articles into branded, printable PDF patient leaflets.

    \b
    Quick start:
      handouts init my-leaflets
      cd my-leaflets
      handouts build
    """


@cli.command(name="build", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_build_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar")
@click.option("--fail-fast", is_flag=True, help="Stop at the first article that fails")
@_print_options
def build_command(
    paths: tuple[Path, ...], workspace: Path, output: Path | None, template: str | None,
    strict: bool, jobs: int | None, no_pack: bool, pack: str | None, quiet: bool,
    fail_fast: bool, pdf_variant: str | None, large_print: bool, paper: str | None,
    booklet: bool,
) -> None:  # fmt: skip
    """Render one PDF leaflet per article, and the leaflet packs.

    Every good article is built even when others fail; the exit code is 1 if
    any failed. Leaflets whose pages cannot have changed since the last build
    are reused. Packs are made when the whole content folder is built.

    \b
    Examples:
      handouts build
      handouts build -j 4 --no-pack
      handouts build --pack liver-surgery
      handouts build content/hand-washing.md -o ~/print
      handouts build --large-print
      handouts build --pack liver-surgery --booklet
      handouts build -w ~/trust-leaflets --strict
    """
    config = load_config(workspace, output=output, pdf_variant=pdf_variant)
    for finding in config.warnings:
        click.echo(f"warning: {finding}", err=True)
    with _progress(quiet) as progress:
        result = build(
            config, paths, template=template, strict=strict, jobs=jobs,
            packs=not no_pack, pack=pack, large_print=large_print, booklet=booklet,
            paper=paper, fail_fast=fail_fast, progress=progress,
        )  # fmt: skip
    _finish(result)


@cli.command(name="watch", context_settings=CONTEXT)
@_build_options
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=POLL_SECONDS,
    show_default=True,
    help="Seconds between looks for changed files",
)
@_print_options
def watch_command(
    workspace: Path, output: Path | None, template: str | None, strict: bool,
    jobs: int | None, no_pack: bool, pack: str | None, interval: float,
    pdf_variant: str | None, large_print: bool, paper: str | None, booklet: bool,
) -> None:  # fmt: skip
    """Build, then build again each time an article, template or handouts.yaml changes.

    For editing: the renderer stays loaded between builds, so a saved
    article is a new leaflet (and pack) within a second. Only what changed is
    rebuilt, and only its warnings are shown. Stop with Ctrl-C.

    \b
    Examples:
      handouts watch
      handouts watch --no-pack
      handouts watch --pack liver-surgery --large-print
    """
    root = workspace.resolve()
    shown_config_warnings: set[str] = set()

    def load() -> Config:
        config = load_config(workspace, output=output, pdf_variant=pdf_variant)
        for finding in config.warnings:
            if str(finding) not in shown_config_warnings:
                shown_config_warnings.add(str(finding))
                click.echo(f"warning: {finding}", err=True)
        return config

    builds = 0

    def leaflet(result: LeafletResult) -> None:
        # After the first build, only what was made again is news.
        if builds == 0 or not result.reused or not result.ok:
            _echo_findings(result)

    def built(result: BuildResult) -> None:
        nonlocal builds
        builds += 1
        click.echo(result.summary())
        if builds == 1:
            click.echo(f"Watching {root} for changes (Ctrl-C to stop)")

    def failed(error: HandoutsError) -> None:
        click.echo(f"error: {error.format_message()}", err=True)
        click.echo("Waiting for the next change…")

    def changed(paths: Iterable[Path]) -> None:
        names = [display_path(p) for p in paths]
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        click.echo(f"Changed: {', '.join(names[:3])}{more}")

    progress = Progress(leaflet=leaflet, pack=_echo_pack, notice=_notice)
    # The first Ctrl-C asks the watch to stop after the build under way, if
    # any: a KeyboardInterrupt raised at an arbitrary point can land in a
    # finaliser, where Python ignores it and the watch would carry on.
    # A second Ctrl-C interrupts at once.
    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        with Session(jobs) as session:
            watch(
                load, root, session=session, on_build=built, on_error=failed,
                on_change=changed, interval=interval, should_stop=stop.is_set,
                template=template, strict=strict, packs=not no_pack, pack=pack,
                large_print=large_print, booklet=booklet, paper=paper, progress=progress,
            )  # fmt: skip
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo("Stopped watching.")


@cli.command(name="pack", context_settings=CONTEXT)
@click.argument("articles", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(path_type=Path),
    required=True,
    help="The pack PDF to write",
)
@click.option(
    "--title", default="Your information leaflets", show_default=True, help="Printed on the cover"
)
@click.option(
    "--note", default=None, help="Printed on the cover for this patient; stored nowhere else"
)
@click.option(
    "--duplex/--no-duplex",
    default=None,
    help="Start each leaflet on a right-hand page [default: from handouts.yaml]",
)
@click.option(
    "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help=JOBS_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar")
@_print_options
def pack_command(
    articles: tuple[str, ...], target: Path, title: str, note: str | None,
    duplex: bool | None, workspace: Path, jobs: int | None, quiet: bool,
    pdf_variant: str | None, large_print: bool, paper: str | None, booklet: bool,
) -> None:  # fmt: skip
    """Make one pack from the leaflets you pick for a patient.

    ARTICLES are article names (file names without the ending), patterns such
    as 'going-home-*', or files. Leaflets are built (or reused) first.

    \b
    Example:
      handouts pack palliative-liver eating-after-liver-surgery \\
          --title "Going home after your operation" \\
          --note "Your follow-up is on 3 March with Mr Shah" -o ~/print/mrs-jones.pdf
    """
    config = load_config(workspace, pdf_variant=pdf_variant)
    for finding in config.warnings:
        click.echo(f"warning: {finding}", err=True)
    with _progress(quiet) as progress:
        result = make_adhoc_pack(
            config, articles, target.resolve(), title=title, note=note, duplex=duplex,
            jobs=jobs, large_print=large_print, booklet=booklet, paper=paper,
            progress=progress,
        )  # fmt: skip
    _finish(result)


@cli.command(name="check", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
)
@click.option("--template", default=None, help="Check against this template")
@click.option("--strict", is_flag=True, help="Treat warnings as errors")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One readable line per finding, or JSON for tools",
)
def check_command(
    paths: tuple[Path, ...], workspace: Path, template: str | None, strict: bool,
    output_format: str,
) -> None:  # fmt: skip
    """Read and validate articles without making PDFs.

    Checks each article's structure, attribution (author, publisher, date,
    link), review date and, for English, reading level (Flesch–Kincaid grade
    and Flesch reading ease). Prints each finding with its file and line;
    exits 1 on any error (with --strict, on any warning).

    \b
    Examples:
      handouts check
      handouts check content/new-article.txt
      handouts check --format json > findings.json
    """
    config = load_config(workspace)
    if output_format == "json":
        result = check(config, paths, template=template, strict=strict)
        click.echo(json.dumps(check_report(result), indent=2, ensure_ascii=False))
        raise SystemExit(0 if result.ok else 1)
    for finding in config.warnings:
        click.echo(f"warning: {finding}", err=True)
    result = check(
        config, paths, template=template, strict=strict,
        progress=Progress(leaflet=_echo_findings),
    )  # fmt: skip
    _finish(result)


def check_report(result: BuildResult) -> dict[str, Any]:
    """``check --format json``: every article, its scores and its findings."""

    def finding(f: Any, level: str) -> dict[str, Any]:
        return {"file": f.path, "line": f.line, "level": level, "message": f.message}

    articles = []
    for leaflet in result.leaflets:
        findings = [finding(w, "warning") for w in leaflet.warnings]
        if leaflet.error:
            findings.append(
                {"file": leaflet.source, "line": None, "level": "error", "message": leaflet.error}
            )
        articles.append({
            "source": leaflet.source, "slug": leaflet.slug, "title": leaflet.title,
            "ok": leaflet.ok, "reading_grade": leaflet.reading_grade,
            "reading_ease": leaflet.reading_ease, "findings": findings,
        })  # fmt: skip
    return {
        "ok": result.ok,
        "config": [finding(w, "warning") for w in result.config_warnings],
        "articles": articles,
        "summary": result.summary(),
    }


@cli.command(name="init", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Create a new workspace: config, templates and an example article.

    \b
    Example:
      handouts init ward-7-leaflets && cd ward-7-leaflets && handouts build
    """
    made = init_workspace(directory)
    click.echo(f"Created a workspace in {directory}/ ({len(made)} files).")
    click.echo("Next: edit handouts.yaml, put articles in content/, then run 'handouts build'.")


@cli.command(name="doctor", context_settings=CONTEXT)
@click.option(
    "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
)
def doctor_command(workspace: Path) -> None:
    """Report the rendering engine, its libraries and the fonts handouts will use.

    Exits 1 if something that makes handouts slow or wrong is missing.

    \b
    Example:
      handouts doctor
    """
    from .doctor import diagnose

    report = diagnose(load_config(workspace))
    for line in report.lines:
        click.echo(line)
    if report.problems:
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
        raise SystemExit(1)
