"""Turn an article's Markdown into clean, safe HTML for a leaflet.

Used by the readers. Cleaning works on the top-level blocks of the parsed
Markdown (paragraphs, headings, lists, tables), so the warnings can name the
line each change was made at. Raw HTML in articles is parsed and then
sanitised with an allow-list: article text is untrusted.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .errors import ContentError
from .model import Finding

_Note = Callable[[str, "int | None"], None]

MAX_HTML_DEPTH = 40
"""Deeper element nesting than this is never a real leaflet and can crash layout."""

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# markdown-it leaves links with unsafe schemes as literal "[text](javascript:…)",
# which a patient would read as junk. Parse every link; sanitise() is the one
# policy that decides which survive (the words stay, the href goes).
_MD.validateLink = lambda url: True  # type: ignore[method-assign]

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "s", "del",
    "sub", "sup", "code", "pre", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
    "a", "img", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "abbr": {"title"},
}
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,", re.IGNORECASE)

CRUFT = frozenset({
    "related articles", "related posts", "related stories", "related content", "related links",
    "view all", "view more", "see all", "see more", "read more", "show more", "load more",
    "share", "share this", "share this article", "share this page", "share this post", "tweet",
    "print", "print this page", "email this page", "back to top", "return to top", "top",
    "skip to main content", "skip to content", "advertisement", "advert", "sponsored",
    "sponsored content", "subscribe", "subscribe to our newsletter", "sign up for our newsletter",
    "follow us", "comments", "leave a comment", "leave a reply", "previous article",
    "next article", "was this page helpful?", "was this article helpful?", "you may also like",
    "recommended for you", "recommended articles", "more articles", "popular articles",
    "latest articles", "most read", "read next", "click here", "cookie settings",
})  # fmt: skip
"""Whole blocks that are website furniture, not article text."""
_CRUFT_SECTIONS = frozenset({
    "related articles", "related posts", "related stories", "related content", "related links",
    "you may also like", "recommended for you", "recommended articles", "more articles",
    "popular articles", "latest articles", "most read", "read next",
})  # fmt: skip
"""Headings that start a trailing list of links to other pages."""
_CRUFT_PREFIX = re.compile(r"^(?:tags?|categories|filed under)\s*:", re.IGNORECASE)
_SHORT_BLOCK_WORDS = 25

NEAR_DUPLICATE = 0.75
"""Share of a paragraph's words, in order, found in an earlier one to count as a repeat.

Measured on a real web article: its repeated summary paragraph scores 0.83;
every other pair of its paragraphs scores 0.34 or less.
"""
_MIN_WORDS_NEAR = 8


@dataclass
class _Block:
    tokens: list[Token]
    line: int | None
    text: str

    @property
    def kind(self) -> str:
        return self.tokens[0].type.removesuffix("_open")

    @property
    def has_content(self) -> bool:
        """True unless the block is only white space (``&nbsp;`` left by a CMS)."""
        if self.text.strip():
            return True
        return any(
            child.type in ("image", "html_inline")
            for token in self.tokens
            for child in token.children or ()
        )

    @property
    def words(self) -> list[str]:
        return re.findall(r"\w+", self.text.lower())


@dataclass(frozen=True)
class Body:
    """The result of cleaning: HTML, the leading H1 if there was one, and what changed."""

    html: str
    heading: str | None
    findings: tuple[Finding, ...]


def markdown_to_html(
    markdown: str,
    *,
    path: str,
    first_line: int = 1,
    title: str | None = None,
    line_map: Sequence[int] | None = None,
) -> Body:
    """Clean and convert ``markdown``.

    Line numbers in findings count from ``first_line``, or come from
    ``line_map`` (file line of each Markdown line) when the Markdown was
    generated from another format.
    """
    findings: list[Finding] = []

    def note(message: str, line: int | None) -> None:
        findings.append(Finding(path, message, line))

    escapes = markdown.count("\\n")
    if escapes:
        # CMS exports store the body as one line with the two characters "\n" for
        # each line break; turning them back into line breaks restores the structure.
        markdown = markdown.replace("\\r\\n", "\n").replace("\\n", "\n")
        note(f"turned {escapes} literal '\\n' sequences into line breaks", first_line)

    tokens = _MD.parse(markdown)
    blocks = list(_blocks(tokens, first_line, line_map))

    heading = None
    if blocks and blocks[0].kind == "heading" and blocks[0].tokens[0].tag == "h1":
        heading = blocks[0].text.strip()
        if title is None or _norm(heading) == _norm(title):
            # The title is printed by the template; printing it twice would be odd.
            blocks.pop(0)

    blocks = _drop_cruft(blocks, note)
    blocks = _drop_duplicates(blocks, note)
    blocks = [b for b in blocks if b.kind != "paragraph" or b.has_content]
    _fix_heading_levels(blocks)

    removed, removed_line = _disallowed_tags(blocks)
    if removed:
        note(f"removed HTML that leaflets do not allow: {', '.join(removed)}", removed_line)

    html = _MD.renderer.render([t for b in blocks for t in b.tokens], _MD.options, {})
    dropped: list[str] = []
    html = sanitise(html, dropped)
    if dropped:
        shown = ", ".join(f"'{u}'" for u in dropped[:3]) + (" …" if len(dropped) > 3 else "")
        note(
            f"removed {len(dropped)} link(s) or image(s) that cannot be used in a leaflet "
            f"(only http, https, mailto and tel links, and images in the workspace): {shown}",
            first_line,
        )
    for match in re.finditer(r"<img\b[^>]*>", html):
        tag = match.group()
        alt = re.search(r'\balt="([^"]*)"', tag)
        if alt is None or not alt.group(1).strip():
            src = re.search(r'\bsrc="([^"]*)"', tag)
            name = src.group(1) if src else "an image"
            note(
                f"image '{name}' has no alt text; describe it for people who use screen "
                f"readers: ![what it shows]({name})",
                first_line,
            )
    depth = _max_depth(html)
    if depth > MAX_HTML_DEPTH:
        raise ContentError(
            path,
            f"HTML is nested {depth} levels deep (the limit is {MAX_HTML_DEPTH}); "
            "simplify the article's structure",
            first_line,
        )
    return Body(html.strip(), heading, tuple(findings))


def sanitise(html: str, dropped: list[str] | None = None) -> str:
    """Keep only the tags, attributes and URLs a leaflet needs; record dropped URLs."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            if value.strip().lower().startswith(LINK_SCHEMES):
                return value
        elif tag == "img" and attribute == "src":
            if _is_local(value) or _IMAGE_DATA.match(value):
                return value
        else:
            return value
        if dropped is not None:
            dropped.append(value[:80])
        return None

    return str(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            attribute_filter=keep,
            # Wider than what is kept, so that keep() sees, reports and drops the
            # dangerous ones; nh3 would remove them silently.
            url_schemes={
                "http",
                "https",
                "mailto",
                "tel",
                "data",
                "file",
                "javascript",
                "vbscript",
                "ftp",
                "smb",
            },
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
    )


def _is_local(url: str) -> bool:
    """A relative path with no scheme: the PDF stage still checks it stays in the workspace."""
    return bool(url) and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^/", url.strip())


def _blocks(
    tokens: list[Token], first_line: int, line_map: Sequence[int] | None
) -> Iterator[_Block]:
    """Group the token stream into top-level blocks."""
    i = 0
    while i < len(tokens):
        start = tokens[i]
        j = i
        if start.nesting == 1:
            depth = 0
            while True:
                depth += tokens[j].nesting
                if depth == 0:
                    break
                j += 1
        line = None
        if start.map:
            index = start.map[0]
            if line_map is None:
                line = first_line + index
            elif line_map:
                line = line_map[min(index, len(line_map) - 1)]
        chunk = tokens[i : j + 1]
        yield _Block(chunk, line, _text(chunk))
        i = j + 1


def _text(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
        elif token.type == "html_block":
            parts.append(nh3.clean(token.content, tags=set()))
    return "".join(parts).replace("\xa0", " ").strip()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(":.!»›>|").strip().lower()


def _drop_cruft(blocks: list[_Block], note: _Note) -> list[_Block]:
    dropped: list[_Block] = []
    # A trailing "Related articles" section: the heading and the short link
    # lines after it. A long paragraph after it means it is real text.
    for index, block in enumerate(blocks):
        if index and _norm(block.text) in _CRUFT_SECTIONS:
            rest = blocks[index + 1 :]
            if all(b.kind != "paragraph" or len(b.words) <= _SHORT_BLOCK_WORDS for b in rest):
                dropped, blocks = blocks[index:], blocks[:index]
                break
    kept = []
    for block in blocks:
        is_text = block.kind in ("paragraph", "heading")
        if is_text and (_norm(block.text) in CRUFT or _CRUFT_PREFIX.match(block.text)):
            dropped.append(block)
        else:
            kept.append(block)
    if dropped:
        dropped.sort(key=lambda b: b.line or 0)
        names = ", ".join(f"'{_short(b.text)}'" for b in dropped[:4])
        more = f" and {len(dropped) - 4} more" if len(dropped) > 4 else ""
        note(f"dropped web page furniture: {names}{more}", dropped[0].line)
    return kept


_MAX_REPEAT_NOTES = 3
"""Repeats reported one by one; more are summed up in one warning."""


def _drop_duplicates(blocks: list[_Block], note: _Note) -> list[_Block]:
    kept: list[_Block] = []
    dropped: list[tuple[_Block, _Block]] = []
    for block in blocks:
        words = block.words
        twin = None
        if block.kind == "paragraph" and len(words) >= 3:
            for earlier in kept:
                if earlier.kind == "paragraph" and _repeats(words, earlier.words):
                    twin = earlier
                    break
        if twin is None:
            kept.append(block)
        else:
            dropped.append((block, twin))
    for block, twin in dropped[:_MAX_REPEAT_NOTES]:
        where = f"line {twin.line}" if twin.line else "earlier"
        same = "repeats" if block.words == twin.words else "nearly repeats"
        note(
            f"dropped a paragraph that {same} the one at {where}: '{_short(block.text)}'",
            block.line,
        )
    if len(dropped) > _MAX_REPEAT_NOTES:
        rest = dropped[_MAX_REPEAT_NOTES:]
        note(
            f"dropped {len(rest)} more paragraphs that repeat earlier ones (is this really "
            "an article?)",
            rest[0][0].line,
        )
    return kept


def _repeats(words: list[str], earlier: list[str]) -> bool:
    if words == earlier:
        return True
    if len(words) < _MIN_WORDS_NEAR or min(len(words), len(earlier)) < 0.5 * max(
        len(words), len(earlier)
    ):
        return False
    # Words matched in order can be no more than the words the two share, so
    # most pairs are ruled out here without the costly sequence comparison.
    shared = sum((Counter(words) & Counter(earlier)).values())
    if shared / len(words) < NEAR_DUPLICATE:
        return False
    matcher = difflib.SequenceMatcher(None, earlier, words, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / len(words) >= NEAR_DUPLICATE


def _fix_heading_levels(blocks: list[_Block]) -> None:
    """Make body headings start at h2 (the title is h1) and never skip a level.

    Skipped levels confuse screen readers and fail PDF/UA checks.
    """
    previous = 1
    levels = [int(b.tokens[0].tag[1]) for b in blocks if b.kind == "heading"]
    if not levels:
        return
    shift = 2 - min(levels)
    for block in blocks:
        if block.kind != "heading":
            continue
        level = min(int(block.tokens[0].tag[1]) + shift, previous + 1, 6)
        block.tokens[0].tag = block.tokens[-1].tag = f"h{level}"
        previous = level


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = {"br", "hr", "img"}


def _disallowed_tags(blocks: list[_Block]) -> tuple[list[str], int | None]:
    """Names of the raw HTML tags the sanitiser will remove, and the first one's line."""
    names: set[str] = set()
    first_line = None
    for block in blocks:
        raw = []
        for token in block.tokens:
            if token.type == "html_block":
                raw.append(token.content)
            elif token.type == "inline" and token.children:
                raw.extend(c.content for c in token.children if c.type == "html_inline")
        found = {m.group(2).lower() for m in _TAG.finditer("".join(raw))} - ALLOWED_TAGS
        if found and first_line is None:
            first_line = block.line
        names |= found
    return sorted(f"<{n}>" for n in names), first_line


def _max_depth(html: str) -> int:
    depth = deepest = 0
    for match in _TAG.finditer(html):
        name = match.group(2).lower()
        if name in _VOID or match.group(3):
            continue
        depth += -1 if match.group(1) else 1
        deepest = max(deepest, depth)
    return deepest


def _short(text: str, limit: int = 50) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
