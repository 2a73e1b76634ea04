"""The ``handouts`` command: a thin layer over the library API."""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .build import BuildResult, LeafletResult, build, check, init_workspace
from .config import load_config

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

WORKSPACE_HELP = "Workspace folder holding handouts.yaml, content/ and templates/ [default: .]"
PATHS_HELP = "Article files or folders [default: the workspace's content/]"


def _echo_result(result: LeafletResult) -> None:
    for finding in result.warnings:
        click.echo(f"warning: {finding}", err=True)
    if result.error:
        click.echo(f"error: {result.error}", err=True)


def _finish(result: BuildResult) -> None:
    click.echo(result.summary())
    if not result.ok:
        # The per-article errors are already printed; exit 1 without repeating them.
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
@click.option(
    "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the PDFs [default: the workspace's output/]",
)
@click.option("--template", default=None, help="Use this template for every article")
@click.option(
    "--strict", is_flag=True, help="Treat warnings as errors: nothing with a warning is built"
)
def build_command(
    paths: tuple[Path, ...],
    workspace: Path,
    output: Path | None,
    template: str | None,
    strict: bool,
) -> None:
    """Render one PDF leaflet per article into the output folder.

    Every good article is built even when others fail; the exit code is 1 if
    any failed.

    \b
    Examples:
      handouts build
      handouts build content/hand-washing.md -o ~/print
      handouts build -w ~/trust-leaflets --template leaflet --strict
    """
    config = load_config(workspace, output=output)
    for finding in config.warnings:
        click.echo(f"warning: {finding}", err=True)
    result = build(config, paths, template=template, strict=strict, on_result=_echo_result)
    _finish(result)


@cli.command(name="check", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-w", "--workspace", type=click.Path(path_type=Path), default=".", help=WORKSPACE_HELP
)
@click.option("--template", default=None, help="Check against this template")
@click.option("--strict", is_flag=True, help="Treat warnings as errors")
def check_command(
    paths: tuple[Path, ...], workspace: Path, template: str | None, strict: bool
) -> None:
    """Read and validate articles without making PDFs.

    Prints each warning and error with its file and line; exits 1 on any error.

    \b
    Examples:
      handouts check
      handouts check content/new-article.txt
    """
    config = load_config(workspace)
    for finding in config.warnings:
        click.echo(f"warning: {finding}", err=True)
    result = check(config, paths, template=template, strict=strict, on_result=_echo_result)
    _finish(result)


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
