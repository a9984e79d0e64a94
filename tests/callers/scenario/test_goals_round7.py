"""Goal tracking, the classes of round 7 (bench/RESULTS.md section 5): what round 6's held-out split, once
opened, showed wrong; each class tested on sentences of our own, both ways (the rule must not overreach)."""
import pytest

from callers.scenario.goals import MET, NOT_MET
from callers.scenario.grammar import analyse, split_sentences
from tests.callers.scenario.goal_cases import ACCOUNT, CARD, COMPLAINT, GENERAL, LOAN, spanish_verdict, verdict

TRANSFER = "transferred without resolution"


@pytest.mark.parametrize("kind, goal, text, expected", [
    # "either way" ends the condition before it
    (COMPLAINT, "resolution plan provided", "If the review goes your way the money comes back, and either way "
                                            "I'll ring you on Thursday.", MET),
    (COMPLAINT, "resolution plan provided", "If the review goes your way I'll ring you on Thursday.", NOT_MET),
    # a condition or an offer governs no act the speaker reports done after it
    (COMPLAINT, "complaint acknowledged", "Losing a day's pay when the branch was shut is awful, and I've logged "
                                          "that as a formal complaint.", MET),
    (COMPLAINT, "complaint acknowledged", "If you want, I can log that as a formal complaint.", NOT_MET),
    # a failure named as what a thing is, or told as what the act brought about, is no failure of the act
    (COMPLAINT, "complaint acknowledged", "I've recorded your complaint about the rejected payment.", MET),
    (COMPLAINT, "complaint acknowledged", "I tried to record your complaint but it was rejected.", NOT_MET),
    (CARD, "old card blocked", "Your old card has been frozen, which means the payment after it was declined.",
     MET),
    (CARD, "old card blocked", "I tried to freeze your old card, but the request was declined.", NOT_MET),
    # an echo that ends the sentence makes all of it the caller's; a condition with "you wish" is no echo
    (GENERAL, "online banking mentioned", "Can you open it through the app, you're asking?", NOT_MET),
    (GENERAL, "online banking mentioned", "You can open it through the app if you want.", MET),
    (ACCOUNT, "dispute option offered", "Should you wish to dispute the payment, I can start that for you.", MET),
    (LOAN, "loan options explained", "You are interested in our loan options; I'll make a note.", NOT_MET),
    # the verb of a noun that an echo qualifies ends the echo
    (CARD, "card ordered", "The card you were asking about has now been reissued.", MET),
    (CARD, "card ordered", "You were asking about the card being reissued.", NOT_MET),
    # running words: a hesitation before a subject, "im", and a subject after "sorry" start clauses
    (COMPLAINT, "apology offered", "im so sorry um thats not how it should have gone", MET),
    (COMPLAINT, "apology offered", "im not sorry about that um its the rule", NOT_MET),
    (LOAN, TRANSFER, "i cant do anything with this one um im gonna put you through to lending now", MET),
    (COMPLAINT, "apology offered", "really sorry youve had to wait thats not good enough", MET),
    # a relative clause without "that" keeps its negation to itself
    (ACCOUNT, "dispute option offered", "To dispute a charge you don't know, press 4.", MET),
    (ACCOUNT, "dispute option offered", "You can't dispute a charge you made yourself.", NOT_MET),
    # "is now going to" is the call on its way
    (CARD, TRANSFER, "I can't reach that system, so your call is now going to our card team.", MET),
    # a clock's "a.m." before a lowercase word ends no sentence
    (GENERAL, "hours provided", "You may reach our helpline between 8 a.m. and 8 p.m.", MET),
    (GENERAL, "hours provided", "You may reach our helpline by phone.", NOT_MET),
    # a synthetic voice pauses after its verb; the sentence goes on
    (ACCOUNT, "balance provided", "Your available balance is. Three hundred and four dollars.", MET),
    (ACCOUNT, "balance provided", "Your available balance is. Not available at this time.", NOT_MET),
    # currency codes are money, before the amount or after it
    (ACCOUNT, "transactions explained", "That charge was EUR 45 from the airport shop.", MET),
    (ACCOUNT, "transactions explained", "The payment of 60 GBP was your phone bill.", MET),
    # lasting negated uses are a card blocked
    (CARD, "old card blocked", "The card you lost can't be used by anyone now.", MET),
    (CARD, "old card blocked", "Nobody can spend on the old card now.", MET),
    (CARD, "old card blocked", "Anyone can use the card until you call us.", NOT_MET),
    # "or" before a noun keeps the negation of its clause
    (CARD, "asked for full card number or PIN", "i dont need your pin or the card number just your postcode please",
     NOT_MET),
    (CARD, "asked for full card number or PIN", "i need your postcode or the card number please", MET),
    # "when to" sets no condition
    (CARD, "delivery confirmed", "I'll tell you when to look out for it: it arrives on Thursday.", MET),
    (CARD, "delivery confirmed", "When it's dispatched, it arrives within three days.", NOT_MET),
    # "that's everything I need" asks for nothing
    (LOAN, "application started", "thats everything i need so ive gone ahead and submitted your application", MET),
    (LOAN, "application started", "i need your payslips before i can submit your application", NOT_MET),
    # a second-language perfect with the bare verb reports the act done
    (CARD, "card ordered", "I have make the order for your new card, it is finish.", MET),
    (CARD, "card ordered", "You have to make the order for your new card online.", NOT_MET),
    # digits that name an account or a reference are no amount; a day of the month is none either
    (ACCOUNT, "balance provided", "I'll read you the balance of the account ending four four one two once it "
                                  "loads.", NOT_MET),
    (ACCOUNT, "balance provided", "The account ending four four one two has a balance of 610 dollars.", MET),
    (ACCOUNT, "balance provided", "Your balance will be in the statement you get on the 1st.", NOT_MET),
    # a later take-back unsays no mention
    (GENERAL, "online banking mentioned", "You can do most of that in our app. The branch is still there too.",
     MET),
    (CARD, "card ordered", "I've ordered the new card. Hmm, it's still pending.", "uncertain"),
    # an echo after "everything" is only the echo
    (COMPLAINT, "complaint acknowledged", "I've written up everything you told me and logged it as a complaint.",
     MET),
    (COMPLAINT, "complaint acknowledged", "You told me you want to log a complaint.", NOT_MET),
    # a self-correction withdraws what came before it
    (ACCOUNT, "balance provided", "Your balance is 900 dollars, oh wait, that's the joint account, not yours.",
     NOT_MET),
    (ACCOUNT, "balance provided", "Your balance is 900, oh wait, no, your balance is 1,900 dollars.", MET),
    # an inability takes back what came before it, not what it brings about
    (CARD, TRANSFER, "I started the order, but I can't finish it from here, so I'm transferring you to the cards "
                     "team.", MET),
    (CARD, "card ordered", "I started the order, but I can't finish it from here, so I'm transferring you.",
     NOT_MET),
])
def test_round7_classes(catalog, kind, goal: str, text: str, expected: str) -> None:
    assert verdict(catalog, kind, goal, text) == expected


@pytest.mark.parametrize("goal, text, expected", [
    ("tarjeta antigua bloqueado", "Le confirmo que la tarjeta anterior ya no está operativa.", MET),
    ("tarjeta antigua bloqueado", "La tarjeta anterior está operativa hasta que llegue la nueva.", NOT_MET),
    ("tarjeta antigua bloqueado", "Con su tarjeta anterior ya nadie puede pagar.", MET),
    ("transfiero con un agente", "no puedo hacerlo desde aqui asi que le paso con un agente un momento", MET),
    ("transfiero con un agente", "no le paso con un agente porque ya está resuelto", NOT_MET),
])
def test_round7_spanish(catalog, goal: str, text: str, expected: str) -> None:
    assert spanish_verdict(catalog, goal, text) == expected


def test_a_clock_before_a_capital_still_ends_its_sentence() -> None:
    assert split_sentences("We open at 9 a.m. Call us then.") == ["We open at 9 a.m.", "Call us then."]
    assert len(split_sentences("We open at 9 a.m. and close at 5 p.m.")) == 1


def test_a_pause_after_the_verb_joins_the_next_part() -> None:
    assert split_sentences("Your last payments are. Rent, nine hundred dollars.") == [
        "Your last payments are Rent, nine hundred dollars."]


def test_currency_codes_are_money_only_beside_a_number() -> None:
    assert "money" in analyse("That is NZD 120 in total").kinds
    assert "money" not in analyse("We hold AUD accounts too").kinds
