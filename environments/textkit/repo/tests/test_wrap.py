import pytest

from textkit.wrap import dedent_lines, truncate, wrap


def test_wrap_respects_width():
    lines = wrap("the quick brown fox jumps over the lazy dog", width=10)
    assert lines == ["the quick", "brown fox", "jumps over", "the lazy", "dog"]
    assert all(len(line) <= 10 for line in lines)


def test_wrap_keeps_long_words():
    assert wrap("a supercalifragilistic word", width=5) == ["a", "supercalifragilistic", "word"]


def test_wrap_rejects_bad_width():
    with pytest.raises(ValueError):
        wrap("x", width=0)


def test_truncate_short_text_unchanged():
    assert truncate("short", 10) == "short"


def test_truncate_respects_limit():
    assert truncate("Hello, world", 8) == "Hello..."
    assert len(truncate("abcdefghijklmnop", 10)) == 10


def test_truncate_custom_ellipsis():
    assert truncate("abcdefghij", 6, ellipsis="~") == "abcde~"


def test_truncate_tiny_limit():
    assert truncate("abcdef", 2) == ".."


def test_dedent_lines():
    assert dedent_lines(["    a", "      b", "", "    c"]) == ["a", "  b", "", "c"]
