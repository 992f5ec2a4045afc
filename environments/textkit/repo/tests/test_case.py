import pytest

from textkit.case import split_words, to_camel, to_kebab, to_snake, to_title


@pytest.mark.parametrize(
    "text, expected",
    [
        ("HelloWorld", ["hello", "world"]),
        ("parseHTTPResponse", ["parse", "http", "response"]),
        ("already_snake_case", ["already", "snake", "case"]),
        ("  kebab-case words ", ["kebab", "case", "words"]),
        ("", []),
    ],
    ids=["pascal", "acronym", "snake", "kebab-spaces", "empty"],
)
def test_split_words(text, expected):
    assert split_words(text) == expected


def test_to_snake():
    assert to_snake("HelloWorld") == "hello_world"
    assert to_snake("version2Update") == "version2_update"


def test_to_kebab():
    assert to_kebab("Hello World") == "hello-world"


def test_to_camel():
    assert to_camel("hello_world") == "helloWorld"
    assert to_camel("hello_world", upper_first=True) == "HelloWorld"
    assert to_camel("") == ""


def test_to_title_keeps_small_words_lower():
    assert to_title("the lord of the rings") == "The Lord of the Rings"
    assert to_title("what it is for") == "What It Is For"
