from textkit.stats import char_frequencies, most_common_words, word_count, words


def test_word_count_simple():
    assert word_count("one two three") == 3


def test_word_count_irregular_whitespace():
    assert word_count("  one   two\tthree\n") == 3
    assert word_count("") == 0


def test_words_lowercases_and_strips_quotes():
    assert words("It's 'quoted' TEXT") == ["it's", "quoted", "text"]


def test_most_common_words_breaks_ties_alphabetically():
    text = "pear apple pear banana apple cherry"
    assert most_common_words(text, n=3) == [("apple", 2), ("pear", 2), ("banana", 1)]


def test_most_common_words_stopwords():
    assert most_common_words("the cat and the hat", n=2, stopwords=["the", "and"]) == [("cat", 1), ("hat", 1)]


def test_char_frequencies_sum_to_one():
    freqs = char_frequencies("Aab")
    assert freqs == {"a": 2 / 3, "b": 1 / 3}
    assert char_frequencies("123") == {}
