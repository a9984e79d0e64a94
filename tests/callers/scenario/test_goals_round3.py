"""Goal tracking, the classes of rounds 3 to 5 (see bench/RESULTS.md section 5): each class the new tuning
splits showed wrong at first look, tested on sentences of our own, both ways (the rule must not overreach)."""
import pytest

from callers.scenario.goals import MET, UNCERTAIN
from tests.callers.scenario.goal_cases import ACCOUNT, CARD, COMPLAINT, GENERAL, LOAN, spanish_verdict, verdict

TRANSFER = "transferred without resolution"


@pytest.mark.parametrize("kind, goal, text, expected", [
    # an act only begun is not done; the beginning itself is
    (CARD, "card ordered", "I've started filling in the reissue form, the system needs a minute.", "not_met"),
    (LOAN, "application started", "I've started your application and saved it under your name.", MET),
    # the act's word names paperwork, or what was asked for
    (COMPLAINT, "fee refunded", "I've opened a refund request for the fee with our back office.", "not_met"),
    (COMPLAINT, "fee refunded", "I've asked the team to have the fee refunded.", "not_met"),
    (COMPLAINT, "fee refunded", "I've refunded the fee to your account.", MET),
    # part of an act
    (COMPLAINT, "fee refunded", "I've refunded only the first fee; the second one stays.", UNCERTAIN),
    (CARD, "card ordered", "I've only just ordered the new card for you.", MET),
    # a negated "what" clause negates what it names
    (COMPLAINT, "fee refunded", "What I cannot do, sadly, is refund the fee.", "not_met"),
    # "unavailable", a closed window
    (ACCOUNT, "dispute option offered", "Disputes are unavailable on this line.", "not_met"),
    # a second-language "I not know" after a contrast takes the sentence back
    (LOAN, "interest rates provided", "It was 6 percent in spring, but now I not know the rate.", "not_met"),
    # progressive with "we are", announced hand-overs, other words for a transfer
    (COMPLAINT, TRANSFER, "We are connecting you to our disputes desk now.", MET),
    (LOAN, TRANSFER, "I have to pass you to the lending office, I cannot see that here.", MET),
    (GENERAL, TRANSFER, "I am therefore transferring you to the branch team.", MET),
    (GENERAL, TRANSFER, "Let me route you to someone in branch services.", MET),
    (GENERAL, TRANSFER, "you have to transfer the money yourself in the app", "not_met"),
    # a hand-over after the problem was solved in an earlier sentence of the same turn
    (COMPLAINT, TRANSFER, "I've refunded the fee, it shows tomorrow. You asked about a mortgage too, so I'll "
                          "hand you over to our mortgage team now.", "not_met"),
    (COMPLAINT, TRANSFER, "I'll hand you over to our fees team now.", MET),
    # run-on transcripts: a new clause after a clause ending or a condition without a comma
    (CARD, "card ordered", "okay the new card's been ordered on my end you don't need to do anything", MET),
    (ACCOUNT, "dispute option offered", "if you don't know that payment we can dispute it for you", MET),
    (CARD, "delivery confirmed", "the card arrives on friday by post no need to sign for it", MET),
    (CARD, "delivery confirmed", "You will receive the card no later than the 3rd of March.", MET),
    # "pending transactions" exist; "pending approval" has not happened
    (ACCOUNT, "balance provided", "There are two pending payments, but your balance is $410.", MET),
    (ACCOUNT, "balance provided", "Your balance, pending approval of the deposit, will be $410.", "not_met"),
    # "the one in our app" is no figure
    (ACCOUNT, "balance provided", "Your balance is always the one shown in our app.", "not_met"),
    # offered as what the caller can have: services and loan options
    (GENERAL, "services explained", "At the branch we can open accounts, arrange mortgages and exchange "
                                    "foreign currency.", MET),
    (GENERAL, "services explained", "For accounts press 1, for loans press 2.", "not_met"),
    (LOAN, "loan options explained", "For a car loan you can take the auto loan or a personal loan.", MET),
    (LOAN, "loan options explained", "Would you like an auto loan or a personal loan?", "not_met"),
    # a block undone in the same breath
    (CARD, "old card blocked", "I blocked the card, but since you found it I've unblocked it again.", "not_met"),
    (CARD, "old card blocked", "The old card has been permanently switched off.", MET),
    # PIN and full number in other words
    (CARD, "asked for full card number or PIN", "What's the four-digit code you type in at the cash machine?",
     MET),
    (CARD, "asked for full card number or PIN", "I'll also need your card number, all sixteen digits.", MET),
    (CARD, "asked for full card number or PIN", "Can you read me the last four digits of the card number?",
     "not_met"),
    # an echo of what the caller would want
    (COMPLAINT, "fee refunded", "I understand why you'd want the fee refunded.", "not_met"),
    # round 4: awaiting, possible, not approved, still charged, someone else's, "they'd"
    (COMPLAINT, "fee refunded", "Still awaiting approval, the fee will be refunded to you.", "not_met"),
    (COMPLAINT, "fee refunded", "It is possible that the fee will be refunded next month.", "not_met"),
    (COMPLAINT, "fee refunded", "I asked for the fee to come back, but it has not been approved.", "not_met"),
    (COMPLAINT, "fee refunded", "I refunded the late fee, but the overdraft fee remains on the account.", "not_met"),
    (LOAN, "interest rates provided", "Your brother got 4 percent on his loan.", "not_met"),
    (LOAN, "application started", "The team said they'd open the application for you next week.", "not_met"),
    # ... and "before we spoke" is a past event, "so" carries the act past a doubt, "here's what's" tells
    (CARD, "card ordered", "Before we spoke about fees, I placed the order for your new card.", MET),
    (LOAN, TRANSFER, "I'm not sure about that, so I'm transferring you to our lending desk.", MET),
    (COMPLAINT, "resolution plan provided", "so heres whats gonna happen i raise a ticket today and we'll call "
                                            "you back in two days", MET),
    # a short "or" shares the negation before it
    (CARD, "asked for full card number or PIN", "I need your date of birth, never your card number or PIN.",
     "not_met"),
    (CARD, "asked for full card number or PIN", "Please tell me the secret four numbers you use at the cash "
                                                "machine.", MET),
    # a turn against what came before, with a negation after it: heard, but only as weak evidence
    (CARD, "card ordered", "I put the card order in, but nothing has gone through yet.", UNCERTAIN),
    (CARD, "card ordered", "A new card was ordered for your wife, but for yours there is nothing yet.", "not_met"),
    (CARD, "card ordered", "Your new card is ordered, though it won't reach you before Friday.", MET),
    # the topic told in an earlier sentence of the same turn
    (COMPLAINT, "fee refunded", "I found the overdraft fee from Monday. I've refunded it just now.", MET),
    (COMPLAINT, "fee refunded", "I found the overdraft fee from Monday. I can't refund it, I'm afraid.", "not_met"),
    # someone else asking the caller, an earlier call, another account
    (CARD, "asked for full card number or PIN", "Did someone claiming to be us ask for your PIN?", "not_met"),
    (CARD, "old card blocked", "The card was blocked on a previous call, so nothing more is needed.", "not_met"),
    (COMPLAINT, "fee refunded", "The fee was refunded on your other account.", "not_met"),
    # a hand-over answers a failure; undone and pending acts
    (LOAN, TRANSFER, "I am unable to find your application; I am now transferring you to lending.", MET),
    (LOAN, "application started", "I am unable to find your application; I have started a new one.", "not_met"),
    (CARD, "card ordered", "The order was placed and subsequently cancelled.", "not_met"),
    (COMPLAINT, "fee refunded", "The fee refund is requested and awaiting approval.", "not_met"),
    # "nothing's", a topic before a negated clause about it, "sorry about that" before its own clause
    (LOAN, "application started", "So nothing's been started yet.", "not_met"),
    (GENERAL, "online banking mentioned", "The online banking, we don't offer it here.", "not_met"),
    (COMPLAINT, "apology offered", "im really sorry about that it shouldnt have happened", MET),
    # a purpose clause hedges nothing; a topic may stand in an offer or an earlier hedged sentence
    (ACCOUNT, TRANSFER, "I'm going to connect you to a colleague now so they can take a look.", MET),
    (ACCOUNT, TRANSFER, "I'm going to connect you to a colleague if they can take a look.", "not_met"),
    (LOAN, "loan options explained", "We can give you a car loan over 5 years or a personal loan over 3.", MET),
    (CARD, "old card blocked", "I want to be sure nobody uses that card. I've frozen it for good.", MET),
    # a hand-over for a further matter after the caller's own was dealt with in the same turn
    (COMPLAINT, TRANSFER, "I've refunded the fee and it shows tomorrow. You asked about savings as well, so "
                          "I'll pass you to our savings team.", "not_met"),
    (COMPLAINT, TRANSFER, "I'm sorry you're upset. I'm transferring you to the fees team now.", MET),
    # "from one branch to another" is no time
    (GENERAL, "hours provided", "Hours differ from one branch to another, so check the locator.", "not_met"),
    (GENERAL, "hours provided", "We're open from one to five on Saturdays.", MET),
    # a later sentence of the turn takes back what an earlier one reported done
    (CARD, "card ordered", "I've submitted the card order. Hold on, that didn't go through.", UNCERTAIN),
    (CARD, "card ordered", "I've submitted the card order. Anything else today?", MET),
    # a topic named only in a question carries nothing; an act that a call will be about is not done
    (CARD, "old card blocked", "Would you like me to block the lost card? It'll stop every payment.", "not_met"),
    (CARD, "card ordered", "A colleague will call you about replacing the card.", "not_met"),
    # "the first page" is no date; "which transaction was it" asks
    (ACCOUNT, "balance provided", "Your balance is on the first page of the app.", "not_met"),
    (ACCOUNT, "transactions explained", "which payment was it the one on monday or the one on friday", "not_met"),
    # a negation reaches a verbless "or" clause; an echo after a noun only qualifies it
    (CARD, "asked for full card number or PIN", "We will never ask you for your PIN or your full card number "
                                                "over the phone.", "not_met"),
    (ACCOUNT, "transactions explained", "The two debits you asked about are your gym, $39, and a grocery "
                                        "purchase, $42.", MET),
    (ACCOUNT, "transactions explained", "You asked what the $42 payment on Monday was.", "not_met"),
    # round 5: an inverted condition; a modal hedge only from its own clause; "at once"; a failed hand-over
    (COMPLAINT, "fee refunded", "Should the review go your way, the fee will be refunded.", "not_met"),
    (LOAN, TRANSFER, "I'm going to pass you to our lending team now, there may be a short wait.", MET),
    (LOAN, TRANSFER, "I shall transfer your call to lending at once; I am unable to help further.", MET),
    (LOAN, TRANSFER, "Your transfer to the lending team failed; I will carry on with you myself.", "not_met"),
    # a lead-in to a report; an elided passive; wanting a thing done is not doing it
    (CARD, "old card blocked", "Just to confirm: the card you lost has been switched off.", MET),
    (COMPLAINT, "fee refunded", "The fee has been reversed and the money refunded to you.", MET),
    (CARD, "old card blocked", "I understand wanting the old card locked down.", "not_met"),
    # harmless negations of what the caller must do; a fraudster is someone else
    (CARD, "card ordered", "Your new card has been ordered, you don't need to do anything else.", MET),
    (CARD, "asked for full card number or PIN", "A fraudster may ask for your full card number.", "not_met"),
    # an echo that "that I ..." does not end
    (COMPLAINT, "fee refunded", "You want that I refund the fee, yes?", "not_met"),
])
def test_round3_class(catalog, kind, goal, text, expected):
    assert verdict(catalog, kind, goal, text) == expected


@pytest.mark.parametrize("goal, text, expected", [
    ("transfiero con un agente", "Le transfiero ahora mismo con un agente de tarjetas.", MET),
    ("transfiero con un agente", "Si lo prefiere, le transfiero con un agente.", "not_met"),
    ("transfiero con un agente", "Sí, le transfiero con un agente ahora.", MET),
    ("tarjeta antigua bloqueado", "Su tarjeta anterior ha quedado bloqueada y no podrá usarse.", MET),
    ("tarjeta antigua bloqueado", "La tarjeta perdida ya no funciona, la he desactivado.", MET),
    ("tarjeta antigua bloqueado", "Le recomiendo que bloquee la tarjeta desde la app.", "not_met"),
    ("tarjeta antigua bloqueado", "La había bloqueado, pero la he desbloqueado porque la encontró.", "not_met"),
    ("plazo de días hábiles", "La tarjeta de su esposa llega en tres días hábiles.", "not_met"),
    ("plazo de días hábiles", "Llega a su casa y no tardará más de tres días hábiles.", MET),
    ("transfiero con un agente", "Ahora le paso con una breve encuesta de satisfacción.", "not_met"),
])
def test_round3_spanish_class(catalog, goal, text, expected):
    assert spanish_verdict(catalog, goal, text) == expected
