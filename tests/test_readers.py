"""Reading every article shape into one Article, and each cleaning step."""

from __future__ import annotations

import datetime as dt

import pytest

from handouts.config import Config
from handouts.errors import ContentError
from handouts.markup import markdown_to_html
from handouts.readers import add_months, detect_shape, parse_date, read_article, slugify

from .conftest import FIXTURES, SEEDS, WriteFile


def messages(article) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(f) for f in article.warnings]


class TestPastedText:
    @pytest.fixture
    def article(self, config: Config):  # type: ignore[no-untyped-def]
        return read_article(FIXTURES / "pasted-web-page.txt", config)

    def test_metadata_lines(self, article) -> None:  # type: ignore[no-untyped-def]
        assert article.shape == "text"
        assert article.title == "What should I do if my ankle is swollen after a long flight?"
        assert article.published == dt.date(2025, 10, 14)
        assert article.source == "Healthwise Daily"
        assert article.author == "Dr. Priya Raman"
        assert article.review_due == dt.date(2028, 10, 14)
        assert article.slug == "pasted-web-page"

    def test_headings_lists_and_paragraphs(self, article) -> None:  # type: ignore[no-untyped-def]
        html = article.body_html
        assert "<h2>Introduction</h2>" in html
        assert "<h2>What helps</h2>" in html
        assert "<li>Walk around for a few minutes every hour.</li>" in html
        assert html.count("<ul>") == 1

    def test_near_duplicate_paragraph_dropped_keeping_the_first(self, article) -> None:  # type: ignore[no-untyped-def]
        assert article.body_html.count("Swollen ankles after a long flight are common") == 1
        assert "Generally, swollen ankles" not in article.body_html
        assert any(
            m.endswith(
                "pasted-web-page.txt:8: dropped a paragraph that nearly repeats the one "
                "at line 6: 'Generally, swollen ankles after a long flight are…'"
            )
            for m in messages(article)
        )

    def test_web_cruft_dropped(self, article) -> None:  # type: ignore[no-untyped-def]
        for cruft in ("Related Articles", "View All", "Travelling safely"):
            assert cruft not in article.body_html
        assert any(
            ":18: dropped web page furniture: 'Related Articles'" in m for m in messages(article)
        )

    def test_pasted_markup_characters_stay_literal(self, write: WriteFile, config: Config) -> None:
        path = write("stars.txt", "Title here\n\nUse 2*3 tablets <b>not</b> #1 [x](y) & more.\n")
        html = read_article(path, config).body_html
        assert "Use 2*3 tablets &lt;b&gt;not&lt;/b&gt; #1 [x](y) &amp; more." in html

    def test_hard_wrapped_paragraph_is_joined(self, write: WriteFile, config: Config) -> None:
        path = write("wrap.txt", "Title\n\nThis sentence was wrapped\nby an email program.\n")
        assert (
            "<p>This sentence was wrapped by an email program.</p>"
            in read_article(path, config).body_html
        )


class TestCmsExport:
    @pytest.fixture
    def article(self, config: Config):  # type: ignore[no-untyped-def]
        return read_article(FIXTURES / "cms-export.txt", config)

    def test_fields(self, article) -> None:  # type: ignore[no-untyped-def]
        assert article.shape == "cms"
        assert article.title == "Why is it important to finish a course of antibiotics?"
        assert article.author == "QuickTakes"
        assert article.source == "QuickTakes"
        assert article.published == dt.date(2025, 3, 9)
        assert article.subject == "Medicine"
        assert article.summary.startswith("Explains why the full course")
        assert article.keywords == ("antibiotics", "infection", "resistance", "side effects")
        assert article.related == ("How do antibiotics work?",)

    def test_relative_url_joined_to_configured_publisher(self, article) -> None:  # type: ignore[no-untyped-def]
        assert article.source_url == (
            "https://quicktakes.io/learn/medicine/questions/why-finish-antibiotics"
        )

    def test_body_is_the_answer_unescaped(self, article) -> None:  # type: ignore[no-untyped-def]
        html = article.body_html
        assert "\\n" not in html
        assert "**" not in html
        assert "&nbsp;" not in html
        assert "<p><strong>Take every dose.</strong> Stopping early" in html
        assert html.count("<p>") == 3
        assert any(
            "turned 4 literal '\\n' sequences into line breaks" in m for m in messages(article)
        )

    def test_unknown_publisher_leaves_link_off_with_warning(
        self, write: WriteFile, config: Config
    ) -> None:
        text = (FIXTURES / "cms-export.txt").read_text().replace("QuickTakes |", "Elsewhere |")
        article = read_article(write("other.txt", text), config)
        assert article.source == "Elsewhere"
        assert article.source_url is None
        assert any(
            "source link '/learn/medicine/questions/why-finish-antibiotics' is relative and no "
            "web address is configured for Elsewhere; the link is left off" in m
            for m in messages(article)
        )


class TestMarkdown:
    @pytest.fixture
    def article(self, config: Config):  # type: ignore[no-untyped-def]
        return read_article(FIXTURES / "markdown-article.md", config)

    def test_fields(self, article) -> None:  # type: ignore[no-untyped-def]
        assert article.shape == "markdown"
        assert article.slug == "inhaler-technique"
        assert article.language == "en-GB"
        assert article.review_due == dt.date(2027, 5, 1)
        assert article.source_url == "https://www.riverside-health.example/leaflets/inhalers"
        assert article.keywords == ("asthma", "inhaler", "spacer")

    def test_title_heading_not_repeated_and_levels_fixed(self, article) -> None:  # type: ignore[no-untyped-def]
        html = article.body_html
        assert "<h1>" not in html
        assert "Using your inhaler</h" not in html
        assert "<h2>Step by step</h2>" in html  # was ###, directly under the title

    def test_keeps_lists_tables_links_emphasis(self, article) -> None:  # type: ignore[no-untyped-def]
        html = article.body_html
        assert "<ol>" in html
        assert "<table>" in html
        assert "<th>Problem</th>" in html
        assert "<strong>spacer</strong>" in html
        assert (
            '<a href="https://www.asthma.example.org/inhalers" rel="noopener noreferrer">' in html
        )

    def test_title_from_heading_without_front_matter(
        self, write: WriteFile, config: Config
    ) -> None:
        article = read_article(write("plain.txt", "# Heading title\n\nBody text.\n"), config)
        assert (article.shape, article.title, article.body_html) == (
            "markdown",
            "Heading title",
            "<p>Body text.</p>",
        )

    def test_unknown_field_warns(self, write: WriteFile, config: Config) -> None:
        article = read_article(write("u.md", "---\ntitle: T\ncolour: red\n---\nText\n"), config)
        assert "content/u.md:3: unknown front-matter field 'colour' is ignored" in messages(article)


class TestSanitising:
    def test_raw_html_is_sanitised_not_passed_through(self) -> None:
        body = markdown_to_html(
            'Hi <script>alert(1)</script><img src="x" onerror="alert(1)">\n\n'
            '<link rel="attachment" href="file:///etc/passwd">\n\n'
            "[bad](javascript:alert(1)) [file](file:///etc/passwd) [ok](mailto:a@b.example)\n",
            path="x.md",
        )
        html = body.html
        for bad in ("<script", "onerror", "<link", "javascript:", "file:"):
            assert bad not in html
        assert '<a href="mailto:a@b.example"' in html
        assert any("<link>, <script>" in str(f) for f in body.findings)

    def test_deep_nesting_is_an_error(self) -> None:
        with pytest.raises(
            ContentError, match=r"HTML is nested \d+ levels deep \(the limit is 40\)"
        ):
            markdown_to_html("<blockquote>" * 60 + "x" + "</blockquote>" * 60, path="d.md")


class TestErrors:
    @pytest.mark.parametrize(
        ("name", "content", "expected"),
        [
            ("empty.md", "  \n\n",
             "content/empty.md: the file is empty; there is nothing to make a leaflet from"),
            ("notitle.md", "---\nauthor: A\n---\nText\n",
             "content/notitle.md:1: missing required field 'title'; "
             "add 'title: …' to the front matter"),
            ("nobody.md", "---\ntitle: T\n---\n&nbsp;\n",
             "content/nobody.md:4: no article text: only a title was found"),
            ("baddate.md", "---\ntitle: T\ndate: 2024-13-45\n---\nText\n",
             "content/baddate.md:3: invalid date '2024-13-45' in 'date'; "
             "write it as YYYY-MM-DD, e.g. 2025-09-22"),
            ("maptitle.md", "---\ntitle: {a: b}\n---\nText\n",
             "content/maptitle.md:2: 'title' must be text, not a mapping"),
        ],
    )  # fmt: skip
    def test_message(
        self, write: WriteFile, config: Config, name: str, content: str, expected: str
    ) -> None:
        with pytest.raises(ContentError) as caught:
            read_article(write(name, content), config)
        assert caught.value.message == expected


class TestHelpers:
    @pytest.mark.parametrize(
        ("text", "hint", "expected"),
        [
            ("Sep 22, 2025", None, dt.date(2025, 9, 22)),
            ("22 September 2025", None, dt.date(2025, 9, 22)),
            ("Sept 22nd, 2025", None, dt.date(2025, 9, 22)),
            ("2024-12-25T10:00:00Z", None, dt.date(2024, 12, 25)),
            ("Dec 25, 2024", "MMM DD, YYYY", dt.date(2024, 12, 25)),
        ],
    )
    def test_parse_date(self, text: str, hint: str | None, expected: dt.date) -> None:
        assert parse_date(text, hint) == expected

    def test_parse_date_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError, match="soon"):
            parse_date("soon")

    def test_add_months_clamps_to_month_end(self) -> None:
        assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
        assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("003_28af09e1a270ac6d", "003-28af09e1a270ac6d"),
            ("Café Crème!", "cafe-creme"),
            ("../../etc/passwd", "etc-passwd"),
            ("x" * 300, "x" * 80),
        ],
    )
    def test_slugify(self, text: str, expected: str) -> None:
        assert slugify(text) == expected

    def test_empty_slug_gets_a_stable_name(self) -> None:
        assert slugify("..", "a").startswith("article-")
        assert slugify("..", "a") == slugify("..", "a")

    def test_shape_is_read_from_content_not_file_ending(self) -> None:
        assert detect_shape("x", {"answer": "a"}) == "cms"
        assert detect_shape("x", {"title": "a"}) == "markdown"
        assert detect_shape("# T\n", None) == "markdown"
        assert detect_shape("T\n\nbody", None) == "text"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not present")
class TestRealSeeds:
    def test_pasted_seed(self, config: Config) -> None:
        article = read_article(SEEDS / "000_835cf62ed8e22a16.txt", config)
        assert (article.title, article.author, article.source, article.published) == (
            "What is palliative surgery for liver cancer?",
            "Dr. Gao Jun",
            "Cainiu Health",
            dt.date(2025, 9, 22),
        )
        assert "Generally, palliative surgery" not in article.body_html
        assert "Related Articles" not in article.body_html
        assert "View All" not in article.body_html

    def test_cms_seed(self, config: Config) -> None:
        article = read_article(SEEDS / "003_28af09e1a270ac6d.txt", config)
        assert article.source_url == (
            "https://quicktakes.io/learn/medicine/questions/"
            "how-does-palliative-surgery-differ-from-curative-surgery-in-cancer-management"
        )
        assert len(article.related) == 4  # five entries, one repeated
        assert "**" not in article.body_html
        assert "\\n" not in article.body_html
