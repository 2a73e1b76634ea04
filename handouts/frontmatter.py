"""Decode article files and read YAML (front matter and handouts.yaml) safely.

YAML here is a data format written by people, so it is read in a way that keeps
their text: no implicit typing (``title: NO`` is the text "NO", ``1.10`` stays
"1.10", dates stay text until a field parses them), no aliases (alias bombs),
no duplicate keys (the last one silently winning hides mistakes), no tags that
build objects. Every problem becomes a :class:`ContentError` naming the file
line, counted from the top of the file rather than the top of the YAML block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError

MAX_NESTING = 32
"""Deeper YAML than this is a mistake or an attack, not an article."""

_NULLS = {"", "~", "null", "Null", "NULL"}
_TEXT_TAGS = {
    # Explicit standard tags are accepted and read as the text the author wrote.
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:null",
}
_ALLOWED_TAGS = _TEXT_TAGS | {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BOM = b"\xef\xbb\xbf"

_Loader: type[yaml.SafeLoader]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextLoader(_Loader):  # type: ignore[valid-type, misc]
    """A safe loader that resolves every plain scalar to text."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level table


@dataclass(frozen=True)
class YamlMapping:
    """A YAML mapping read as plain data, with the file line of each top-level key."""

    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    """File line of every key, top-level and nested (``seo.title``)."""
    first_line: int = 1

    def line(self, key: str) -> int:
        """Return the file line of ``key``, or of the block's start if it is absent."""
        return self.lines.get(key, self.first_line)


def decode(raw: bytes, path: str | Path) -> str:
    """Return the file's text: strict UTF-8 (BOM allowed), LF endings, no control characters."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ContentError(path, "saved as UTF-16 text; re-save the file as UTF-8")
    raw = raw.removeprefix(_BOM)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if b"\x00" in raw:
            raise ContentError(
                path,
                "looks like a binary file, not text; articles must be UTF-8 text files "
                "(.md or .txt)",
            ) from None
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ContentError(
            path,
            f"not valid UTF-8 (byte 0x{raw[err.start]:02X}); "
            "re-save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8)",
            line,
            column,
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if match := _CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        raise ContentError(
            path,
            f"control character U+{ord(match.group()):04X} in the text; delete it and save again",
            line,
        )
    return text


def split_front_matter(text: str, path: str | Path) -> tuple[str | None, str, int]:
    """Split ``---`` fenced YAML front matter from the body.

    Returns ``(yaml_text or None, body, body_first_line)``. The YAML block
    always starts on file line 2.
    """
    if not re.match(r"---[ \t]*\n", text):
        return None, text, 1
    closing = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
    match = closing.search(text, pos=text.index("\n") + 1)
    if match is None:
        raise ContentError(
            path, "front matter is not closed: add a line '---' after the last field", 1
        )
    yaml_text = text[text.index("\n") + 1 : match.start()]
    body_start = match.end() + 1
    body_first_line = text.count("\n", 0, body_start) + 1
    return yaml_text, text[body_start:], body_first_line


def load_mapping(yaml_text: str, path: str | Path, first_line: int = 1) -> YamlMapping:
    """Read a YAML mapping as plain text data; raise :class:`ContentError` with a file line."""
    try:
        node = yaml.compose(yaml_text, Loader=_TextLoader)
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, path, first_line) from None
    except yaml.reader.ReaderError as err:
        line = first_line + yaml_text.count("\n", 0, max(err.position, 0))
        raise ContentError(
            path,
            f"character U+{err.character if isinstance(err.character, int) else 0:04X} is not "
            "allowed in YAML; delete it",
            line,
        ) from None
    except yaml.YAMLError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "invalid YAML"
        raise ContentError(path, f"invalid YAML: {first}", first_line) from None
    except RecursionError:
        raise ContentError(path, "YAML is nested too deeply", first_line) from None
    if node is None:
        return YamlMapping({}, {}, first_line)
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "plain text"
        raise ContentError(
            path,
            f"front matter must be a mapping of 'key: value' lines, not {kind}",
            first_line + node.start_mark.line,
        )
    walker = _Walker(path, first_line)
    data = walker.mapping(node, 0, "")
    return YamlMapping(data, walker.lines, first_line)


class _Walker:
    """Turn a composed YAML node tree into dicts, lists and strings."""

    def __init__(self, path: str | Path, first_line: int) -> None:
        self.path = path
        self.first_line = first_line
        self.seen: set[int] = set()
        self.lines: dict[str, int] = {}
        """File line of every mapping key, by dotted path (``seo.title``)."""

    def _line(self, node: yaml.Node) -> int:
        return self.first_line + node.start_mark.line

    def value(self, node: yaml.Node, depth: int, prefix: str) -> Any:
        if depth > MAX_NESTING:
            raise ContentError(
                self.path, f"YAML is nested more than {MAX_NESTING} levels deep", self._line(node)
            )
        # An alias is the same node object seen twice; refusing it stops alias
        # bombs (a few hundred bytes that expand to gigabytes) before any expansion.
        if id(node) in self.seen:
            raise ContentError(
                self.path,
                "YAML aliases (*name) are not allowed; write the value out in full",
                self._line(node),
            )
        self.seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            raise ContentError(
                self.path,
                f"unsupported YAML tag '{node.tag.replace('tag:yaml.org,2002:', '!!')}'; "
                "remove it and write plain text",
                self._line(node),
            )
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth, prefix)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, depth + 1, prefix) for item in node.value]
        assert isinstance(node, yaml.ScalarNode)
        # The C loader reports a plain scalar's style as '' and the Python one as None.
        if not node.style and node.value in _NULLS:
            return None
        value = str(node.value)
        # "\ud800" or "\x07" escapes in quoted YAML make characters no PDF can hold.
        if bad := _BAD_CHARACTER.search(value):
            raise ContentError(
                self.path,
                f"invalid character U+{ord(bad.group()):04X} in a value; remove it",
                self._line(node),
            )
        return value

    def mapping(self, node: yaml.MappingNode, depth: int, prefix: str) -> dict[str, Any]:
        self.seen.add(id(node))
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ContentError(self.path, "YAML keys must be plain text", self._line(key_node))
            key = str(key_node.value)
            if key in result:
                raise ContentError(
                    self.path,
                    f"duplicate key '{key}'; keep one of them",
                    self._line(key_node),
                )
            self.lines.setdefault(prefix + key, self._line(key_node))
            result[key] = self.value(value_node, depth + 1, f"{prefix}{key}.")
        return result


_HINTS = (
    ("mapping values are not allowed", "if a value contains ': ', put the value in quotes"),
    ("cannot start any token", "indent with spaces, not tabs"),
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("could not find expected ':'", "each line needs 'key: value'"),
)


def _yaml_error(err: yaml.MarkedYAMLError, path: str | Path, first_line: int) -> ContentError:
    mark = err.problem_mark or err.context_mark
    problem = err.problem or err.context or "invalid YAML"
    hint = next((h for needle, h in _HINTS if needle in str(err)), None)
    if "\t" in problem or "'\\t'" in problem:
        problem = "tab character in the YAML"
    message = f"invalid YAML: {problem}" + (f" ({hint})" if hint else "")
    if mark is None:
        return ContentError(path, message, first_line)
    return ContentError(path, message, first_line + mark.line, mark.column + 1)
