"""Goal tracking, the classes of round 8 (bench/RESULTS.md section 5): what round 7's held-out split, once
opened, showed wrong; each class tested on sentences of our own, both ways (the rule must not overreach)."""
import pytest

from callers.scenario.goals import MET, NOT_MET
from callers.scenario.grammar import word_list
from tests.callers.scenario.goal_cases import ACCOUNT, CARD, COMPLAINT, GENERAL, LOAN, spanish_verdict, verdict

TRANSFER = "transferred without resolution"
PIN = "asked for full card number or PIN"


@pytest.mark.parametrize("kind, goal, text, expected", [
    # "May" before a day is the month, no hedge
    (ACCOUNT, "transactions explained", "The payment of 30 dollars on May 4th was your electricity bill.", MET),
    (ACCOUNT, "transactions explained", "The payment of 30 dollars may be your electricity bill.", NOT_MET),
    # an echo ends at a label's colon
    (ACCOUNT, "balance provided", "To keep it short, as you asked: available right now is 812 dollars.", MET),
    (ACCOUNT, "balance provided", "You asked what's available right now in your account.", NOT_MET),
    # an elliptical "I can't" at the end negates only itself
    (ACCOUNT, TRANSFER, "ok im gonna put you through to savings they can look at it i cant", MET),
    (ACCOUNT, TRANSFER, "ok i cant put you through to savings", NOT_MET),
    # a speaker's restart counts once; a number read out is no restart
    (CARD, TRANSFER, "so rather than keep you waiting im gonna im gonna send you over to the card team now", MET),
    (ACCOUNT, "balance provided", "the account ending four four one two has a balance of nine nine dollars", MET),
    # a topic before an answer and a negated clause about it is negated too
    (GENERAL, "online banking mentioned", "Online, no, we don't have that for business accounts.", NOT_MET),
    (GENERAL, "online banking mentioned", "Online, sorry, we don't offer online for business accounts.", NOT_MET),
    (GENERAL, "online banking mentioned", "Online, yes, you can do all of that in the app.", MET),
    # what a negated "one" names with a modal is negated too
    (ACCOUNT, "dispute option offered", "That payment isn't one we can dispute, as you made it in person.", NOT_MET),
    (ACCOUNT, "dispute option offered", "That payment is one we can dispute for you today.", MET),
    # a pluperfect act the speaker then turns from is withdrawn
    (CARD, "card ordered", "I had ordered the new card, but the address check failed so it was stopped.", NOT_MET),
    (CARD, "card ordered", "I have ordered the new card, and the address check passed.", MET),
    (LOAN, "application started", "We had submitted your application; however, we've had to cancel the new one.",
     NOT_MET),
    # digits to dial are no amount
    (ACCOUNT, "balance provided", "You can hear your balance any time by dialling star 120 hash.", NOT_MET),
    # a one-time code is no PIN
    (CARD, PIN, "I'll verify you with the one-time code we text you instead.", NOT_MET),
    (CARD, PIN, "Please read me the PIN you use at the cash machine.", MET),
    # a hand-over to a feedback line is no transfer without resolution
    (LOAN, TRANSFER, "I shall transfer you to our feedback line now.", NOT_MET),
    # a block or a refund that did not hold
    (CARD, "old card blocked", "Your card was blocked last week on another account; this card remains active.",
     NOT_MET),
    (COMPLAINT, "fee refunded", "I refund one fee only, the other two I cannot, they stay.", NOT_MET),
    (COMPLAINT, "fee refunded", "I refunded the late fee, so it no longer shows.", MET),
    # "I'm going to need" asks; a second-language perfect of "start"
    (CARD, PIN, "Now I'm going to need the long number from the front of your card.", MET),
    (CARD, PIN, "I'm going to need a moment to pull up the account.", NOT_MET),
    (LOAN, "application started", "I have start the application for you, now I need your salary please.", MET),
    (LOAN, "application started", "You have to start the application online yourself.", NOT_MET),
    # a restart of a contraction counts once and keeps its clause apart
    (COMPLAINT, "apology offered", "oh i'm so sorry about that that's that's not great", MET),
    # a relative clause with its own subject ends where the main verb comes
    (ACCOUNT, "transactions explained", "The payment which you did not recognise was made at the petrol station "
                                        "on Sunday.", MET),
    (ACCOUNT, "transactions explained", "The payment which you made on Sunday was not from the petrol station.",
     NOT_MET),
    # an echo after a noun ends with its clause
    (ACCOUNT, "transactions explained", "The charge you asked about, the one for 18 dollars, is your phone bill.",
     MET),
    # "I can tell you" leads in to what is told
    (ACCOUNT, "transactions explained", "I can tell you about the activity: the 60 dollars on Monday was the "
                                        "pharmacy.", MET),
    (ACCOUNT, "transactions explained", "I can look into the 60 dollar payment on Monday if you like.", NOT_MET),
    # the caller's query named is an echo
    (ACCOUNT, "dispute option offered", "I note your query regarding a dispute on the pending charge.", NOT_MET),
])
def test_round8_classes(catalog, kind, goal: str, text: str, expected: str) -> None:
    assert verdict(catalog, kind, goal, text) == expected


@pytest.mark.parametrize("goal, text, expected", [
    ("transfiero con un agente", "No puedo ayudar con esto, le conecto ahora con otro departamento.", MET),
    ("transfiero con un agente", "¿Quiere que le conecte con otro departamento?", NOT_MET),
    ("tarjeta de reemplazo pedido", "Su tarjeta nueva ya está en fabricación.", MET),
    ("tarjeta de reemplazo pedido", "Acabo de tramitar la reposición de su tarjeta.", MET),
    ("tarjeta antigua bloqueado", "La tarjeta anterior ha quedado inutilizada.", MET),
    ("plazo de días hábiles", "La tarjeta le llegará el próximo jueves, día 14.", MET),
    ("plazo de días hábiles", "La tarjeta le llegará cuando esté lista.", NOT_MET),
])
def test_round8_spanish(catalog, goal: str, text: str, expected: str) -> None:
    assert spanish_verdict(catalog, goal, text) == expected


def test_restarts_count_once_and_numbers_read_out_stay() -> None:
    assert word_list("the the card i i blocked it") == ["the", "card", "i", "blocked", "it"]
    assert word_list("ending six six zero eight") == ["ending", "six", "six", "zero", "eight"]
