"""Word error rate: the normalisation decides what counts as an error, so each rule is pinned here, and each
is checked in both directions (the said text and the heard text are normalised alike)."""
from __future__ import annotations

import pytest

from callers.media.word_errors import combined_wer, join_compounds, normalized_words, score


def test_case_punctuation_and_fillers_do_not_count() -> None:
    assert score("Um, I lost my DEBIT card!", "i lost my debit card").errors == 0
    assert normalized_words("Uh, well, um... er okay") == ["well", "okay"]


@pytest.mark.parametrize(("said", "heard"), [
    ("you're verified", "you are verified"),
    ("I can't promise that", "I cannot promise that"),
    ("I've logged it and I'll call", "I have logged it and I will call"),
    ("there is an over-draft fee", "there is an overdraft fee"),
    ("there is an over draft fee", "there is an over-draft fee"),
    ("send me an e-mail", "send me an email"),
    ("it takes 5 days", "it takes five days"),
    ("a fee of $200", "a fee of two hundred dollars"),
    ("Your balance is two thousand four hundred and twelve dollars.", "Your balance is $2,412."),
    ("$1,200.50", "one thousand two hundred dollars and fifty cents"),
    ("an APR of 6.9%", "an APR of six point nine percent"),
    ("born on March third nineteen fifty two", "born on March 3rd, 1952"),
    ("on the twenty-first", "on the 21st"),
    ("reference four five seven one", "reference 4571"),
    ("reference four five seven one", "reference 4 5 7 1"),
    ("within two to three business days", "within 2-3 business days"),
    ("Monday to Friday nine to five", "Monday to Friday 9 - 5"),
    ("call five five five one two three four", "call 555-1234"),  # a code: no "to" put in
    ("your colour", "your color"),
])
def test_spellings_of_the_same_words_are_no_error_either_way(said: str, heard: str) -> None:
    assert score(said, heard).errors == 0
    assert score(heard, said).errors == 0


def test_a_different_number_or_word_is_still_an_error() -> None:
    assert score("a fee of $200", "a fee of $300").errors == 1
    assert score("it takes five days", "it takes nine days").errors == 1
    assert score("your card will be delivered", "your card will be deleted").errors == 1
    assert score("there is an overdraft fee", "there is an over fee").errors == 1
    assert score("within two to three days", "within 2-4 days").errors == 1


def test_compounds_join_only_against_the_other_side() -> None:
    assert join_compounds(["over", "draft", "fee"], ["overdraft"]) == ["overdraft", "fee"]
    assert join_compounds(["a", "b", "c"], ["abc"]) == ["abc"]
    assert join_compounds(["over", "draft"], ["over", "draft"]) == ["over", "draft"]
    # The reference counts the compound once, as it was compared.
    assert score("over draft fee", "overdraft fee").words == 2


def test_substitutions_deletions_and_insertions_each_count_one() -> None:
    said = "when will the new card arrive"
    heard = score(said, "when we'll the boot car derive")
    assert (heard.errors, heard.words) == (4, 6)
    assert score(said, "when will the card arrive").errors == 1
    assert score(said, "when will the new card arrive today").errors == 1


def test_nothing_heard_is_every_word_missed_and_nothing_said_scores_no_rate() -> None:
    assert score("no thank you", "").wer == 1.0
    assert score("", "hello").wer is None


def test_call_wer_pools_words_and_skips_unscored_turns() -> None:
    # 1 error in 2 words and 0 in 8: 10% over the call, not the 25% a mean of per-turn rates would give.
    assert combined_wer([(1, 2), (0, 8), (None, None), (None, 5)]) == 0.1
    assert combined_wer([(None, None)]) is None
