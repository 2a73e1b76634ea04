"""Exceptions that reach the user as one clear line, never a traceback.

Every error subclasses :class:`click.ClickException`, so a library error that
reaches the command line prints as ``Error: <message>`` and exits 1 with no
handling in the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click


class HandoutsError(click.ClickException):
    """Base class of every error handouts raises on purpose."""


def location(path: str | Path, line: int | None = None, column: int | None = None) -> str:
    """Format ``path:line:column`` the way compilers and editors understand."""
    where = str(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return where


class ContentError(HandoutsError):
    """An article cannot be read: names the file and, where known, the line."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = message
        super().__init__(f"{location(path, line, column)}: {message}")


class ConfigError(HandoutsError):
    """The workspace configuration is invalid; lists every problem at once."""

    def __init__(self, problems: Iterable[str], path: str | Path = "handouts.yaml") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path} has {count} configuration {noun}:\n{lines}")


class TemplateError(HandoutsError):
    """A template is missing or broken."""


class PdfError(HandoutsError):
    """WeasyPrint could not produce a PDF for an article."""
