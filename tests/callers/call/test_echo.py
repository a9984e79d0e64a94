"""Which heard sentences are the caller's own words coming back (callers/call/echo.py)."""
from __future__ import annotations

import pytest

from callers.call.echo import is_echo, split_echoes

SAID = ["Hi, my debit card was lost and I need a replacement card.", "Can you order me a replacement card?"]


@pytest.mark.parametrize("heard", [
    "can order me a replacement car",  # misheard: card -> car
    "Can you order me a replacement card?",
    "um my debit card was lost and i need a replacement card",
])
def test_the_callers_line_heard_back_is_an_echo(heard):
    assert is_echo(heard, SAID)


@pytest.mark.parametrize("heard", [
    "You said your card was lost, I've ordered a replacement.",
    "I've ordered a replacement card for you.",
    "Your new card will arrive in five days.",
    "Card.",  # too short to tell
])
def test_the_agent_repeating_a_detail_is_not_an_echo(heard):
    assert not is_echo(heard, SAID)


def test_only_the_callers_recent_lines_count():
    older = ["Can you order me a replacement card?", "Thanks.", "What about fees?", "And the PIN?"]
    assert not is_echo("can order me a replacement car", older)


def test_echoed_sentences_are_taken_out_of_a_turn():
    kept, echoed = split_echoes("Can you order me a replacement car. Sure, I've ordered one for you.", SAID)
    assert (kept, echoed) == ("Sure, I've ordered one for you.", 1)


@pytest.mark.parametrize("heard, said", [
    # The reference bridge's complaint turn, after the caller asked for exactly that.
    ("I've logged your complaint about the overdraft fee.", "Can you log my complaint about an overdraft fee?"),
    ("I'm sorry about that.", "Sorry, can I just ask something about that?"),
    # A confirmation in the caller's own content words, as a statement for a question.
    ("Your replacement card is ordered.", "Is my replacement card ordered?"),
])
def test_an_agent_confirming_in_the_callers_terms_is_not_an_echo(heard, said):
    assert not is_echo(heard, [said])
