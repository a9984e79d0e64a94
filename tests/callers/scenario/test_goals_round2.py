"""Goal tracking, the classes of round 2 (see bench/RESULTS.md section 5): each class that round 1's held-out
split showed wrong, tested on sentences of our own, both ways (the rule must not overreach)."""
import pytest

from callers.scenario.goals import MET
from callers.scenario.grammar import analyse, stemmed_phrase
from tests.callers.scenario.goal_cases import ACCOUNT, CARD, COMPLAINT, GENERAL, LOAN, spanish_verdict, verdict


@pytest.mark.parametrize("kind, goal, sentence", [
    # taken back by a contrast and the speaker's inability, or refused
    (CARD, "card ordered", "I've keyed in the new card order, but I can't release it without a manager."),
    (LOAN, "application started", "The application is open on my screen; however, we cannot submit it today."),
    (COMPLAINT, "fee refunded", "I requested a refund of the fee and it was denied this morning."),
    # someone else's case
    (CARD, "delivery confirmed", "Her card turned up in four days, but I see nothing sent to you."),
    (COMPLAINT, "apology offered", "My colleague said sorry to you on yesterday's call."),
    # echoes and pardons do not mention or offer
    (ACCOUNT, "dispute option offered", "So you're wondering whether a dispute is possible?"),
    (GENERAL, "online banking mentioned", "you said something about the mobile app"),
    (COMPLAINT, "apology offered", "Sorry? What was the date of that fee?"),
    # a survey is no hand-over; a hedge doubts the subject of its clause; "is" + a state is no act
    (GENERAL, "transferred without resolution", "I'll transfer you to a two-minute survey now."),
    (COMPLAINT, "resolution plan provided", "A refund within a week might be possible."),
    (LOAN, "application started", "The application portal is open all day."),
    # what is usual, and an ordinal that is no figure
    (CARD, "card ordered", "New cards are usually issued once the old one is reported."),
    (ACCOUNT, "balance provided", "I can see your balance, I just need your postcode first."),
    # asked back, predicted for the caller, or the caller's own act
    (GENERAL, "online banking mentioned", "The mobile app?"),
    (LOAN, "interest rates provided", "You might be offered 3.9 percent if you qualify."),
    (CARD, "card ordered", "you already requested a new card in the app yesterday"),
    # a step with a timeline is a plan only after a label; without one it is what is usual
    (COMPLAINT, "resolution plan provided", "Fee reviews take 5 working days."),
    (COMPLAINT, "resolution plan provided", "We review every complaint within ten days."),
    # a noun after "is" / "its" is no non-native act
    (CARD, "card ordered", "We will look at the card and its replacement options."),
    (COMPLAINT, "fee refunded", "We can offer a refund of the fee."),
    (LOAN, "transferred without resolution", "I'll give you to the end of the week to send the payslips."),
])
def test_round_two_classes_that_do_not_meet(catalog, kind, goal, sentence):
    assert verdict(catalog, kind, goal, sentence) != MET, sentence


@pytest.mark.parametrize("kind, goal, sentence", [
    # a later clause that negates something else keeps the act
    (CARD, "card ordered", "I've ordered the new card, and don't worry, you won't pay for it."),
    # a colleague acting for the caller now is the bank acting
    (CARD, "card ordered", "My colleague has ordered a replacement card for you."),
    # relative clauses are no questions and hedge nothing
    (LOAN, "transferred without resolution", "I'm transferring you to an adviser who can explain the terms."),
    (CARD, "delivery confirmed", "The card, which went out today, will arrive by Monday."),
    (ACCOUNT, "dispute option offered", "if you dont know that payment we can raise a dispute"),
    # transfers said other ways, a trailing please asks only for the holding
    (ACCOUNT, "transferred without resolution", "I'm routing your call to the accounts team, hold on please."),
    (GENERAL, "transferred without resolution", "Transferring to an agent."),
    # non-native tenses, STT forms, phrasal verbs split, terse plans
    (CARD, "card ordered", "The new card is order already for you."),
    (CARD, "old card blocked", "i have block the lost one"),
    (LOAN, "asked for full card number or PIN", "ill need the card number on the front"),
    (COMPLAINT, "fee refunded", "We put the fee back on your account, 30 dollars."),
    (COMPLAINT, "resolution plan provided", "Next step: charge review within 5 working days."),
    (LOAN, "application started", "I've kicked off your application."),
    # a label's value, a card gone out, a fee explained as a transaction
    (CARD, "old card blocked", "Old card: cancelled."),
    (CARD, "card ordered", "Your replacement card has gone out in today's post."),
    (ACCOUNT, "transactions explained", "The 9 dollar item is your monthly account fee."),
    # "we can help with / offer" says what the bank does, not an offer to do it
    (GENERAL, "services explained", "We can help with current accounts, loans and travel insurance."),
    # a question after a short unpunctuated lead-in; a hand-over in other words
    (CARD, "asked for full card number or PIN", "ok for security whats your pin number"),
    (LOAN, "transferred without resolution", "I give you now to a colleague from mortgages."),
])
def test_round_two_classes_that_meet(catalog, kind, goal, sentence):
    assert verdict(catalog, kind, goal, sentence) == MET, sentence


@pytest.mark.parametrize("goal, sentence, met", [
    ("tarjeta de reemplazo pedido", "Su tarjeta nueva ya está solicitada.", True),
    ("tarjeta de reemplazo pedido", "¿Quiere que le pida una tarjeta nueva?", False),
    ("tarjeta de reemplazo pedido", "no hemos pedido la tarjeta de reemplazo", False),
    ("plazo de días hábiles", "Le llega en seis días hábiles.", True),
    ("plazo de días hábiles", "le llega en seis dias habiles", True),
    ("plazo de días hábiles", "El plazo en días hábiles depende de su zona.", False),
    ("tarjeta antigua bloqueado", "La tarjeta perdida quedó anulada.", True),
    ("tarjeta antigua bloqueado", "La tarjeta antigua no está bloqueada.", False),
    ("transfiero con un agente", "Le comunico con un especialista.", True),
    ("transfiero con un agente", "Le paso el número de la oficina.", False),
])
def test_the_es_es_criteria_in_other_words(catalog, goal, sentence, met):
    assert (spanish_verdict(catalog, goal, sentence) == MET) is met, sentence


def test_accents_do_not_change_the_words():
    assert analyse("días hábiles").words == analyse("dias habiles").words


def test_a_verb_and_its_particle_hold_a_short_object_but_no_clause():
    cue = stemmed_phrase("give back")
    assert analyse("we will give it back").has(cue)
    assert analyse("we will give the whole fee back").has(cue)  # a verb's object between it and its particle
    assert analyse("I pulled both of those charges back").has(stemmed_phrase("pull back"))
    assert not analyse("we will give you a call and it's back").has(cue)  # a clause, not an object
    assert not analyse("we will give the fee review a look back").has(cue)  # longer than an object
    assert not analyse("I give you my word back").has(stemmed_phrase("give word"))  # only verb-and-particle cues
