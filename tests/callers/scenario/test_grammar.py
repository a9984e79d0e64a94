"""The English of heard sentences: stemming, and the indexed lookups checked against plain scans."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callers.scenario import grammar
from callers.scenario.grammar import stem


@pytest.mark.parametrize("words", [("delivered", "delivers", "delivering"), ("ordered", "orders", "ordering"),
                                   ("transferred", "transferring", "transfers", "transfer"),
                                   ("cancelled", "canceled", "cancel"), ("applied", "apply", "applies"),
                                   ("replaced", "replace", "replacing"), ("apps", "app")])
def test_stem_joins_word_forms(words):
    assert len({stem(word) for word in words}) == 1


_WORDS = st.lists(st.sampled_from(["i", "can", "need", "your", "card", "tell", "me", "please", "let", "check",
                                   "see", "confirm", "we", "if"]), max_size=12)


@settings(max_examples=400, deadline=None)
@given(_WORDS, st.lists(st.sampled_from(["i", "can", "card", "me", "your"]), min_size=1, max_size=3),
       st.lists(st.booleans(), min_size=12, max_size=12))
def test_a_sentence_finds_a_cue_wherever_a_plain_scan_would(words, cue, allowed):
    sentence = grammar.analyse(" ".join(words))
    cue = tuple(stem(word) for word in cue)
    allowed = tuple(allowed[:len(sentence.stems)])
    width, stems = len(cue), sentence.stems
    for mask in (None, allowed):
        expected = any(stems[i:i + width] == cue and (mask is None or mask[i])
                       for i in range(len(stems) - width + 1))
        assert sentence.has(cue, mask) == expected


@settings(max_examples=400, deadline=None)
@given(_WORDS)
def test_the_first_marker_is_where_a_plain_scan_finds_it(words):
    def plain(markers, exceptions):
        for index in range(len(words)):
            for marker in markers:
                if tuple(words[index:index + len(marker)]) == marker:
                    after = index + len(marker)
                    if after < len(words) and words[after] in exceptions.get(marker, ()):
                        continue
                    return index
        return len(words)

    assert grammar._first_marker(words, grammar._REQUEST_MARKERS_BY_WORD) == plain(grammar.REQUEST_MARKERS, {})
    assert (grammar._first_marker(words, grammar._TENTATIVE_MARKERS_BY_WORD, grammar.TENTATIVE_EXCEPTIONS)
            == plain(grammar.TENTATIVE_MARKERS, grammar.TENTATIVE_EXCEPTIONS))


@pytest.mark.parametrize("text, window", [
    ("within 5 to 7 business date", True),  # "days" as a recogniser often hears it
    ("in three to five date", True),
    ("in five working daze", True),
    ("on a date that suits you", False),
    ("we will let you know the date", False),
    ("a date in your diary", False),
])
def test_a_misheard_unit_counts_only_where_a_window_is_unmistakable(text, window):
    sentence = grammar.analyse(text)
    assert sentence.gives("duration", (True,) * len(sentence.words)) is window
