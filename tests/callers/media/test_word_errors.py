"""Word error rate: the normalisation decides what counts as an error, so each rule is pinned here."""
from __future__ import annotations

from callers.media.word_errors import combined_wer, normalized_words, score


def test_case_punctuation_and_fillers_do_not_count() -> None:
    assert score("Um, I lost my DEBIT card!", "i lost my debit card").errors == 0
    assert normalized_words("Uh, well, um... okay") == ["well", "okay"]


def test_numbers_are_compared_as_words() -> None:
    assert score("Your balance is two thousand four hundred and twelve dollars.", "Your balance is $2,412.").wer == 0
    assert score("born in nineteen fifty two", "born in 1952").errors == 0


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
