"""Decoding and YAML: the author's text is kept, and every mistake names its line."""

from __future__ import annotations

import pytest

from handouts.errors import ContentError
from handouts.frontmatter import decode, load_mapping, split_front_matter


def error_of(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ContentError) as caught:
        call(*args)
    return caught.value.message


class TestDecode:
    def test_bom_and_crlf_are_normalised(self) -> None:
        assert decode(b"\xef\xbb\xbftitle\r\nline two\rthree", "a.md") == "title\nline two\nthree"

    def test_windows_1252_names_line_column_and_fix(self) -> None:
        message = error_of(decode, b"title\nCaf\xe9 au lait", "b01.md")
        assert message == (
            "b01.md:2:4: not valid UTF-8 (byte 0xE9); re-save the file as UTF-8 "
            "(in most editors: Save As, Encoding: UTF-8)"
        )

    def test_utf16(self) -> None:
        message = error_of(decode, "hi".encode("utf-16"), "u.txt")
        assert message == "u.txt: saved as UTF-16 text; re-save the file as UTF-8"

    def test_binary_file(self) -> None:
        message = error_of(decode, b"\x89PNG\r\n\x1a\n\x00\x00", "x.md")
        assert message.startswith("x.md: looks like a binary file, not text")

    def test_control_character(self) -> None:
        message = error_of(decode, b"ok\nbad \x07 bell", "c.md")
        assert message == "c.md:2: control character U+0007 in the text; delete it and save again"


class TestSplit:
    def test_front_matter_and_body_line(self) -> None:
        yaml_text, body, line = split_front_matter("---\ntitle: A\n---\nBody\n", "a.md")
        assert (yaml_text, body, line) == ("title: A\n", "Body\n", 4)

    def test_no_front_matter(self) -> None:
        assert split_front_matter("Just text\n", "a.txt") == (None, "Just text\n", 1)

    def test_unclosed(self) -> None:
        message = error_of(split_front_matter, "---\ntitle: A\nbody", "a08.md")
        assert (
            message == "a08.md:1: front matter is not closed: add a line '---' after the last field"
        )


class TestLoadMapping:
    def test_values_keep_the_authors_text(self) -> None:
        data = load_mapping("title: NO\nversion: 1.10\nid: 012345\nat: 12:30\nd: 2024-12-25\n", "a")
        assert data.data == {
            "title": "NO", "version": "1.10", "id": "012345", "at": "12:30", "d": "2024-12-25",
        }  # fmt: skip

    def test_empty_value_is_none_but_quoted_null_is_text(self) -> None:
        assert load_mapping("a:\nb: 'null'\n", "x").data == {"a": None, "b": "null"}

    def test_key_lines_count_from_the_file_top(self) -> None:
        data = load_mapping("a: 1\nseo:\n  title: x\n", "x", first_line=2)
        assert data.lines == {"a": 2, "seo": 3, "seo.title": 4}

    def test_duplicate_key(self) -> None:
        message = error_of(load_mapping, "title: A\ntitle: B\n", "a03.md", 2)
        assert message == "a03.md:3: duplicate key 'title'; keep one of them"

    def test_python_tag_is_refused_and_nothing_runs(self) -> None:
        message = error_of(
            load_mapping, "x: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "a01.md", 2
        )
        assert message == (
            "a01.md:2: unsupported YAML tag '!!python/object/apply:os.system'; "
            "remove it and write plain text"
        )

    def test_alias_bomb_is_refused(self) -> None:
        bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n'
        message = error_of(load_mapping, bomb, "a02.md", 2)
        assert "YAML aliases (*name) are not allowed" in message

    def test_colon_in_value_names_line_and_column(self) -> None:
        message = error_of(load_mapping, "title: Foo: Bar\n", "a07.md", 2)
        assert message == (
            "a07.md:2:11: invalid YAML: mapping values are not allowed in this context "
            "(if a value contains ': ', put the value in quotes)"
        )

    def test_tab_indentation(self) -> None:
        message = error_of(load_mapping, "seo:\n\ttitle: x\n", "a13.md", 2)
        assert message.startswith("a13.md:3:1: invalid YAML:")
        assert "indent with spaces, not tabs" in message

    def test_list_front_matter(self) -> None:
        message = error_of(load_mapping, "- a\n- b\n", "a11.md", 2)
        assert (
            message == "a11.md:2: front matter must be a mapping of 'key: value' lines, not a list"
        )

    def test_deep_nesting(self) -> None:
        message = error_of(load_mapping, "a: " + "[" * 200 + "]" * 200 + "\n", "a14.md", 2)
        assert "nested" in message
