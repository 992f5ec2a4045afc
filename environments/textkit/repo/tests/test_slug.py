from textkit.slug import slugify, unique_slug


def test_basic_slug():
    assert slugify("Hello, World!") == "hello-world"


def test_accents_are_stripped():
    assert slugify("Crème Brûlée") == "creme-brulee"


def test_repeated_separators_collapse():
    assert slugify("a  --  b") == "a-b"
    assert slugify("rock & roll", sep="_") == "rock_roll"


def test_no_leading_or_trailing_separator():
    assert slugify("  --hello--  ") == "hello"


def test_max_length_cuts_at_word_boundary():
    assert slugify("the quick brown fox", max_length=12) == "the-quick"
    assert slugify("abcdefghij", max_length=4) == "abcd"


def test_unique_slug():
    assert unique_slug("Hello", set()) == "hello"
    assert unique_slug("Hello", {"hello", "hello-2"}) == "hello-3"
    assert unique_slug("!!!", set()) == "item"
