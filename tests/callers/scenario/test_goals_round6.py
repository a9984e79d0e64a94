"""Goal tracking, the classes of round 6 (bench/RESULTS.md section 5): what round 5's held-out split, once
opened, showed wrong; each class tested on sentences of our own, both ways (the rule must not overreach)."""
import pytest

from callers.scenario.goals import MET, UNCERTAIN
from callers.scenario.grammar import analyse
from tests.callers.scenario.goal_cases import ACCOUNT, CARD, COMPLAINT, GENERAL, LOAN, spanish_verdict, verdict

TRANSFER = "transferred without resolution"
PIN = "asked for full card number or PIN"


@pytest.mark.parametrize("kind, goal, text, expected", [
    # a contrast that opens the sentence has nothing of its own sentence to take back
    (LOAN, TRANSFER, "Unfortunately I can't approve business loans, so I'm passing you to our business desk.", MET),
    (LOAN, TRANSFER, "I'm passing you to the business desk, but unfortunately nobody is there today.", "not_met"),
    # a verb and its particle hold a short object between them
    (COMPLAINT, "fee refunded", "I've taken both of those fees back off your statement.", MET),
    (COMPLAINT, "fee refunded", "I'll take you back to the menu for the fee options.", "not_met"),
    (CARD, "old card blocked", "I've shut the old card down for you.", MET),
    # a written decimal: a price is money, a British clock time a time, a rate neither
    (ACCOUNT, "transactions explained", "The 12.75 payment on the 3rd was your parking app.", MET),
    (GENERAL, "hours provided", "We open at 8.30 on weekdays.", MET),
    (GENERAL, "hours provided", "Our savings rate is 4.25 percent.", "not_met"),
    # a number that counts things is no amount
    (ACCOUNT, "balance provided", "I can see you have three accounts with us.", "not_met"),
    (ACCOUNT, "balance provided", "You have 3,120 in your checking account.", MET),
    # what the system wants from the caller is asked of the caller
    (CARD, PIN, "Before it goes through, the system needs your card PIN, so can you read me those digits?", MET),
    (CARD, PIN, "The system never needs your PIN, so please don't share it.", "not_met"),
    # a negation cut off from its verb by an aside
    (CARD, PIN, "Please never, at any point, tell anyone your PIN.", "not_met"),
    (CARD, PIN, "Please, at this point, tell me your card's PIN.", MET),
    # a negated use is the card blocked; a negated offer is no offer
    (CARD, "old card blocked", "The card you lost can't be used anymore.", MET),
    (CARD, "old card blocked", "Your old card will still work until the new one comes.", "not_met"),
    (CARD, "old card blocked", "The new card won't work until you activate it.", "not_met"),
    (GENERAL, "hours provided", "Our branches don't work on Sundays.", "not_met"),
    (CARD, PIN, "And the card number too has been updated on your profile.", "not_met"),
    (ACCOUNT, "dispute option offered", "That payment is too old and can no longer be disputed.", "not_met"),
    # a later sentence that undoes the act
    (CARD, "old card blocked", "I put a freeze on the old card. As you've found it, I've unfrozen it.", "not_met"),
    (CARD, "old card blocked", "I put a freeze on the old card. The new one comes on Monday.", MET),
    # the act named again, negated, later in the same sentence
    (COMPLAINT, "fee refunded", "i've waived the fee oh hang on it bounced so it's not actually waived yet",
     UNCERTAIN),
    # "that" before a preposition is a pronoun, not a new clause
    (GENERAL, "online banking mentioned", "no you can't do that on the app it's branch only", "not_met"),
    # running words: a first person with its auxiliary opens a clause; a clause may end in a particle
    (COMPLAINT, "complaint acknowledged", "i get it that isn't ok i've logged a complaint for you", MET),
    (GENERAL, "online banking mentioned", "you don't have to come in you can do it in the app", MET),
    # someone else's case
    (LOAN, "application started", "Your coworker's loan application was submitted this morning.", "not_met"),
    (GENERAL, "hours provided", "Our partner bank opens at 9 am; I don't have our own hours.", "not_met"),
    # a short clause with its own subject is no label of the next sentence
    (COMPLAINT, "apology offered", "I'm sorry. That should never have happened.", MET),
    # a plan's lead-in lays out what follows like a label
    (COMPLAINT, "resolution plan provided", "so the plan is i send it to the fees team today and you hear back "
                                            "by friday", MET),
    (COMPLAINT, "resolution plan provided", "the team usually sends it to review and you hear back by friday",
     "not_met"),
    # "what I can do" names an ability; it hedges nothing after it
    (LOAN, TRANSFER, "That's more than what I can do here, so I'm handing you over to our loans team.", MET),
    (LOAN, TRANSFER, "I can hand you over to our loans team if you like.", "not_met"),
    (CARD, "card ordered", "so what i can do is order you a new card if you want", "not_met"),
    # "I need to" before a hand-over is the agent's own act; "are ... now" is this moment
    (LOAN, TRANSFER, "ok i need to pass you to the mortgage desk for that", MET),
    (COMPLAINT, "fee refunded", "The two fees you flagged are reversed now.", MET),
    (COMPLAINT, "fee refunded", "Fees are reversed within ten days.", UNCERTAIN),  # what is usual, or done?
    # a verbless "and the X too" goes on asking; with a verb it reports
    (CARD, PIN, "okay and the card number as well please all sixteen digits", MET),
    (CARD, PIN, "and the card number is on the front too", "not_met"),
    # a purpose's negation ("so it doesn't happen again") negates nothing done; a refusal still does
    (COMPLAINT, "fee refunded", "I've refunded the fee, and I've flagged it so it doesn't get reapplied.", MET),
    (COMPLAINT, "fee refunded", "The fee was correct, so it won't be refunded.", "not_met"),
    # a headline's passive reports the act; a participle before a later verb says what is usual
    (COMPLAINT, "complaint acknowledged", "Complaint logged under reference 5521.", MET),
    (CARD, "card ordered", "Cards ordered before noon ship the same day.", UNCERTAIN),
    (CARD, "card ordered", "Let's get that new card sorted for you, first, what's your name?", UNCERTAIN),
    # a longer "or" item shares the negation; a negated predicate reaches its subject over a relative clause
    (CARD, PIN, "We will never ask for your PIN or your full card number on a call like this one.", "not_met"),
    (ACCOUNT, "dispute option offered", "Disputes, which must be raised within 60 days, are not possible here.",
     "not_met"),
    (ACCOUNT, "dispute option offered", "Disputes, which we raise for you, are free of charge.", MET),
    # a refund undone: re-applied, re-presented, rejected
    (COMPLAINT, "fee refunded", "I refunded the fee, but it got reapplied overnight.", "not_met"),
    (COMPLAINT, "fee refunded", "I put the fee back on your account just now.", MET),
    # what many people do is someone else's act
    (CARD, PIN, "Many people read me their PIN, but I don't need it.", "not_met"),
    # "that" after "if" is the subject of the condition, so the main clause after it stands apart
    (ACCOUNT, "dispute option offered", "if that wasn't you we can raise a dispute for you", MET),
    (ACCOUNT, "dispute option offered", "if that was you we cannot dispute it", "not_met"),
    # a process promised with no when is no plan yet; with a when, in any sentence of the turn, it is one
    (COMPLAINT, "resolution plan provided", "We will look into it and get back to you.", UNCERTAIN),
    (COMPLAINT, "resolution plan provided", "We will look into it and get back to you by Friday.", MET),
    (COMPLAINT, "resolution plan provided", "Your case has been escalated. Expect a call within two days.", MET),
    (COMPLAINT, "resolution plan provided", "I'll refund the fee today.", MET),  # a remedy is concrete
    # conditions of eligibility are requirements; a promise to tell them later is not
    (LOAN, "requirements explained", "The car has to be under eight years old and you'll need insurance on it.", MET),
    (LOAN, "requirements explained", "The system will tell you later what it needs from you.", "not_met"),
    # other words for the acts
    (CARD, "old card blocked", "Card ending 4471 suspended.", MET),
    (CARD, "card ordered", "The new card has gone through on my side.", MET),
    (COMPLAINT, "complaint acknowledged", "I've put it down as a formal complaint.", MET),
    (COMPLAINT, TRANSFER, "We can't solve this here. Moving your call to our complaints team.", MET),
    (GENERAL, "services explained", "Here you can exchange currency and pay in cheques.", MET),
])
def test_round6_class(catalog, kind, goal, text, expected):
    assert verdict(catalog, kind, goal, text) == expected


@pytest.mark.parametrize("goal, text, expected", [
    ("tarjeta antigua bloqueado", "La tarjeta perdida ya no funciona para ninguna compra.", MET),
    ("tarjeta antigua bloqueado", "La tarjeta perdida funciona hasta que llegue la nueva.", "not_met"),
    ("tarjeta antigua bloqueado", "Le puse un bloqueo. Como la encontró, ya se lo he quitado.", "not_met"),
    ("tarjeta de reemplazo pedido", "Su dirección está bien, y la de reemplazo quedó pedida ayer.", MET),
    ("tarjeta de reemplazo pedido", "He procedido a solicitar el duplicado de su tarjeta.", MET),
    ("transfiero con un agente", "Esto no lo puedo hacer yo, te paso ahora con un agente, no cuelgue.", MET),
    ("transfiero con un agente", "Podría pasarle con un compañero, pero prefiero resolverlo yo.", "not_met"),
    # running Spanish: a clitic before the agent's act opens its own clause, away from an earlier "no"
    ("transfiero con un agente", "bueno eso no lo veo desde aquí la comunico con un asesor ahora", MET),
    ("transfiero con un agente", "no no le paso con nadie se lo resuelvo yo", "not_met"),
])
def test_round6_spanish_class(catalog, goal, text, expected):
    assert spanish_verdict(catalog, goal, text) == expected


def test_note_is_not_the_negation_not():
    assert analyse("I've noted it").stems[1] != analyse("I've not done it").stems[1]
