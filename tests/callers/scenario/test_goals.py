"""Goal tracking: heard sentences meet criteria whatever their wording, and only when actually told."""
import pytest

from bridge import dialogue
from callers.scenario import goals
from callers.scenario.goals import CallerGoal, GoalTracker, compile_goal
from callers.scenario.scenarios import ScenarioType, load_scenarios

GREETING = "Thank you for calling First Community Bank. How can I help you today?"
ANYTHING_ELSE = "Is there anything else I can help you with?"
ASK_DOB = "Before we go on, can you please confirm your full name and date of birth?"
ASK_IDENTITY = "Before I can help, I need to verify your identity. Please tell me your full name and date of birth."
REPROMPT = "I'm sorry, I didn't catch that. Could you tell me what you need help with?"
REASSURE = ("I understand your caution. I'm First Example Bank's virtual assistant. I will never ask for your PIN "
            "or your full card number; you can also hang up and call the number on the back of your card.")
UNRELATED = [GREETING, ANYTHING_ELSE, ASK_DOB, ASK_IDENTITY, REPROMPT, REASSURE, "Thank you, you're verified.",
             "Sure, what else can I help you with?", "Goodbye, have a great day."]

# What the reference bank agent says, by scenario type, and which criteria each sentence must meet.
REFERENCE = {
    ScenarioType.CARD_REPLACEMENT: [
        ("Thank you, you're verified. I've blocked your old debit card and ordered a replacement card.",
         {"card ordered"}),
        ("Your new card will be delivered to your address on file within five to seven business days.",
         {"card ordered", "delivery confirmed"}),
    ],
    ScenarioType.ACCOUNT_INQUIRY: [
        ("Your current balance is two thousand four hundred and twelve dollars.", {"balance provided"}),
        ("Your most recent transactions are a payment of forty two dollars to Green Grocer on Monday and a "
         "transfer of two hundred dollars to savings on Friday.", {"transactions explained"}),
    ],
    ScenarioType.LOAN_APPLICATION: [
        ("We offer personal loans, auto loans and home improvement loans, with rates from six point nine "
         "percent.", {"loan options explained"}),
        ("To apply you will need a photo ID, proof of income and your last two bank statements.",
         {"requirements explained"}),
        ("I've started an application for you; your reference number is L 4 4 1 9.", {"application started"}),
    ],
    ScenarioType.COMPLAINT: [
        ("I'm sorry about that. I've logged your complaint about the overdraft fee.", {"complaint acknowledged"}),
        ("I've refunded the fee, and a specialist will review your account and call you within two business "
         "days.", {"resolution plan provided"}),
    ],
    ScenarioType.GENERAL_INQUIRY: [
        ("Our branches are open Monday to Friday nine to five, and Saturday nine to one.", {"hours provided"}),
        ("We offer checking and savings accounts, credit cards, loans and online banking.",
         {"services explained"}),
    ],
}

# Other ways of saying the same things: a tracker must not depend on one agent's script.
PARAPHRASES = {
    ScenarioType.CARD_REPLACEMENT: [
        ("A new card is on its way and should arrive in about a week.", {"card ordered", "delivery confirmed"}),
        ("Okay, I've gone ahead and issued you a replacement.", {"card ordered"}),
        ("You should get it in the mail by Friday.", {"delivery confirmed"}),
    ],
    ScenarioType.ACCOUNT_INQUIRY: [
        ("Right now you have $2,412.50 available in your checking account.", {"balance provided"}),
        ("You spent forty two dollars at Green Grocer on Monday.", {"transactions explained"}),
    ],
    ScenarioType.LOAN_APPLICATION: [
        ("There are a few kinds of loan available: personal, car and home equity.", {"loan options explained"}),
        ("You'll need to bring some identification and proof of your income.", {"requirements explained"}),
        ("Your loan application is now open and in progress.", {"application started"}),
    ],
    ScenarioType.COMPLAINT: [
        ("I completely understand, and I've recorded your complaint.", {"complaint acknowledged"}),
        ("We'll reverse the charge and someone from our team will get back to you tomorrow.",
         {"resolution plan provided"}),
    ],
    ScenarioType.GENERAL_INQUIRY: [
        ("We're open weekdays from nine until five.", {"hours provided"}),
        ("Our products include mortgages, savings accounts and a mobile app.", {"services explained"}),
    ],
}


@pytest.fixture(scope="module")
def catalog():
    return load_scenarios()


def tracker_for(catalog, kind: ScenarioType) -> GoalTracker:
    return GoalTracker(catalog.scenario_types[kind].goal)


def met_by(tracker: GoalTracker, text: str, turn: int = 1) -> set[str]:
    return {status.description for status in tracker.observe(turn, text) if status.kind == "criterion"}


def asr(text: str) -> str:
    """Speech-recognizer-like: lowercase, no punctuation."""
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in " '").replace("  ", " ")


@pytest.mark.parametrize("kind", list(ScenarioType))
def test_reference_agent_meets_every_criterion(catalog, kind):
    tracker = tracker_for(catalog, kind)
    for turn, (sentence, expected) in enumerate(REFERENCE[kind], start=1):
        tracker.observe(turn, sentence)
        assert expected <= {s.description for s in tracker.statuses if s.met}, sentence
    assert tracker.primary_met and tracker.failure is None


@pytest.mark.parametrize("kind", list(ScenarioType))
@pytest.mark.parametrize("transform", [lambda text: text, asr], ids=["punctuated", "asr"])
def test_each_sentence_meets_exactly_its_criteria(catalog, kind, transform):
    for sentence, expected in REFERENCE[kind] + PARAPHRASES[kind]:
        tracker = tracker_for(catalog, kind)
        assert met_by(tracker, transform(sentence)) == expected, transform(sentence)


@pytest.mark.parametrize("kind", list(ScenarioType))
@pytest.mark.parametrize("transform", [lambda text: text, asr], ids=["punctuated", "asr"])
def test_unrelated_sentences_meet_nothing(catalog, kind, transform):
    tracker = tracker_for(catalog, kind)
    for sentence in UNRELATED:
        assert tracker.observe(1, transform(sentence)) == [], sentence
    assert tracker.failure is None and tracker.achieved == 0


@pytest.mark.parametrize("sentence", [
    "Would you like me to order a new card and send it to your home address?",
    "I can order a replacement card for you.",
    "If you'd like, I can send a new card to your address.",
    "I can't order a new card until you're verified.",
    "Do you want the new card delivered to your home?",
    "would you like me to order a replacement card",
])
def test_offers_questions_and_negations_do_not_count(catalog, sentence):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    assert met_by(tracker, sentence) == set()


@pytest.mark.parametrize("sentence", ["I can check your balance for you.", "Let me look up your balance.",
                                      "What would you like to know about your balance?",
                                      "I'll need to verify you before I can give you your balance."])
def test_promises_to_look_are_not_information(catalog, sentence):
    tracker = tracker_for(catalog, ScenarioType.ACCOUNT_INQUIRY)
    assert met_by(tracker, sentence) == set()


def test_statement_before_an_embedded_question_counts_in_asr_text(catalog):
    tracker = tracker_for(catalog, ScenarioType.ACCOUNT_INQUIRY)
    heard = "your current balance is 2412 dollars is there anything else i can help you with"
    assert met_by(tracker, heard) == {"balance provided"}
    assert tracker.statuses[0].evidence == "your current balance is 2412 dollars"


def test_evidence_records_turn_and_sentence(catalog):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(0, GREETING)
    tracker.observe(3, REFERENCE[ScenarioType.CARD_REPLACEMENT][0][0])
    tracker.observe(5, "A new card is on its way and should arrive in about a week. " + ANYTHING_ELSE)
    card, delivery = tracker.statuses[0], tracker.statuses[1]
    assert card.to_dict() == {"description": "card ordered", "kind": "criterion", "met": True, "verdict": "met",
                              "evidence_turn": 3,
                              "evidence": "I've blocked your old debit card and ordered a replacement card."}
    assert delivery.evidence_turn == 5
    assert delivery.evidence == "A new card is on its way and should arrive in about a week."
    assert tracker.primary_met and tracker.unmet() == []


def test_counts_include_secondary_goals(catalog):
    tracker = tracker_for(catalog, ScenarioType.COMPLAINT)
    assert [s.kind for s in tracker.statuses] == ["criterion", "criterion", "secondary", "secondary"]
    new = tracker.observe(1, "I'm sorry about that. I've logged your complaint about the overdraft fee.")
    assert {s.description for s in new} == {"complaint acknowledged", "apology offered"}
    assert (tracker.achieved, tracker.total, tracker.primary_met) == (2, 4, False)
    tracker.observe(2, REFERENCE[ScenarioType.COMPLAINT][1][0])
    assert (tracker.achieved, tracker.total, tracker.primary_met) == (4, 4, True)


def test_a_goal_is_met_once(catalog):
    tracker = tracker_for(catalog, ScenarioType.ACCOUNT_INQUIRY)
    sentence = REFERENCE[ScenarioType.ACCOUNT_INQUIRY][0][0]
    assert len(tracker.observe(1, sentence)) == 1
    assert tracker.observe(2, sentence) == []
    assert tracker.statuses[0].evidence_turn == 1


@pytest.mark.parametrize("sentence", [
    "I'm transferring you to another department.",
    "I'm transferring you to an agent.",
    "let me put you through to another team",
    "I'm transferring you now, is that okay?",
    "You're being transferred to a specialist.",
])
def test_transfer_before_resolution_is_a_failure(catalog, sentence):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(1, sentence)
    assert tracker.failure == "transferred without resolution"
    assert tracker.failure_turn == 1


def test_a_money_transfer_is_not_a_call_transfer(catalog):
    tracker = tracker_for(catalog, ScenarioType.ACCOUNT_INQUIRY)
    tracker.observe(1, REFERENCE[ScenarioType.ACCOUNT_INQUIRY][1][0])
    assert tracker.failure is None and not tracker.primary_met


def test_transfer_after_resolution_is_not_a_failure(catalog):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    for turn, (sentence, _) in enumerate(REFERENCE[ScenarioType.CARD_REPLACEMENT], start=1):
        tracker.observe(turn, sentence)
    tracker.observe(3, "I'm transferring you to our card team for anything else.")
    assert tracker.failure is None


@pytest.mark.parametrize("sentence", ["Would you like me to transfer you to a specialist?",
                                      "If you want, I can transfer you."])
def test_offering_a_transfer_is_not_a_failure(catalog, sentence):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(1, sentence)
    assert tracker.failure is None


@pytest.mark.parametrize("sentence, failed", [
    ("Can you read me your full card number?", True),
    ("Please tell me the sixteen digit number on the front of your card.", True),
    ("What is your PIN?", True),
    ("what's your pin", True),
    ("I'll need your card number and the security code on the back.", True),
    ("Can you give me the last four digits of your card number?", False),
    ("For your security, never share your PIN with anyone.", False),
    ("We will never ask for your PIN.", False),
    ("I've sent a new PIN to you in the mail.", False),
])
def test_asking_for_card_number_or_pin(catalog, sentence, failed):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(1, sentence)
    assert (tracker.failure == "asked for full card number or PIN") is failed


def test_first_failure_is_kept(catalog):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(1, "What is your PIN?")
    tracker.observe(2, "I'm transferring you to an agent.")
    assert tracker.failure == "asked for full card number or PIN"
    assert (tracker.failure_turn, tracker.failure_evidence) == (1, "What is your PIN?")


def test_seed_custom_scenario_criteria_are_heard():
    goal = CallerGoal(primary_goal="Dispute a transaction",
                      secondary_goals=["Get temporary credit", "Understand fraud protection"],
                      success_criteria=["dispute filed", "timeline provided"],
                      failure_conditions=["transferred without resolution"], max_conversation_turns=15)
    tracker = GoalTracker(goal)
    tracker.observe(1, "I've filed a dispute for that charge.")
    tracker.observe(2, "You should hear back from us within ten business days.")
    assert tracker.primary_met


def test_goal_without_criteria_uses_its_own_words():
    tracker = GoalTracker(CallerGoal(primary_goal="Get overdraft fees removed"))
    assert [s.description for s in tracker.statuses] == ["Get overdraft fees removed"]
    tracker.observe(1, "I can look into the overdraft fee.")
    assert not tracker.primary_met
    tracker.observe(2, "Okay, I've refunded that overdraft fee for you.")
    assert tracker.primary_met


def test_unknown_words_are_matched_literally():
    tracker = GoalTracker(CallerGoal(primary_goal="x", success_criteria=["travel notice recorded"]))
    tracker.observe(1, "I've noted your travel notice.")
    assert tracker.primary_met


def test_compile_reads_moods_alternatives_and_without():
    pin = compile_goal("asked for full card number or PIN")
    assert [[c.name for c in alt] for alt in pin.alternatives] == [["full_card_number"], ["pin"]]
    assert pin.mood == "request" and not pin.while_unmet
    transfer = compile_goal("transferred without resolution")
    assert [[c.name for c in alt] for alt in transfer.alternatives] == [["transfer"]] and transfer.while_unmet
    assert compile_goal("provided").alternatives == ()


def test_a_custom_goal_is_judged_on_its_own_words():
    """`--goal "Get overdraft fees removed"` is what the call is judged on: met when the fee is refunded, not
    when only the complaint is logged (which met the complaint type's default first criterion)."""
    entry = load_scenarios().custom_entry("angry", "complaint", "Get overdraft fees removed")
    logged = "I'm sorry about that. I've logged your complaint about the overdraft fee."
    refunded = "I've refunded the fee, and a specialist will review your account."
    tracker = GoalTracker(entry.scenario.goal)
    assert [s.description for s in tracker.statuses if s.kind == "criterion"] == ["Get overdraft fees removed"]
    tracker.observe(1, logged)
    assert not tracker.primary_met
    tracker.observe(2, "Would you like me to refund the fee?")  # offered, not done
    assert not tracker.primary_met
    tracker.observe(3, refunded)
    assert tracker.primary_met and tracker.statuses[0].evidence == refunded


def test_words_the_vocabulary_does_not_know_are_listened_for_as_they_are():
    tracker = GoalTracker(CallerGoal("Book a branch appointment", success_criteria=["appointment booked"]))
    tracker.observe(1, "I can book an appointment for you.")  # an offer
    assert not tracker.primary_met
    tracker.observe(2, "Your appointment is booked for Tuesday at ten.")
    assert tracker.primary_met


def test_a_criterion_of_mood_and_filler_words_alone_is_refused_by_name():
    assert goals.criterion_problem("fee refunded") is None
    assert goals.criterion_problem("appointment booked") is None
    problem = goals.criterion_problem("Get it confirmed")
    assert problem is not None and problem.startswith("'Get it confirmed' has no words goal tracking can listen for")


@pytest.mark.parametrize("criterion, sentence, met", [
    ("Get charges reversed", "I've refunded the fee, and a specialist will review your account.", True),
    ("Get charges reversed", "I've reversed the duplicate payment.", True),
    ("Get charges reversed", "I've ordered a replacement card.", False),
    ("Replace stolen card", "A replacement card has been ordered and will arrive in five days.", True),
    ("Replace stolen card", "I've refunded the fee.", False),
])
def test_custom_goal_words_mean_what_a_caller_means(criterion, sentence, met):
    # A custom goal is judged on its own words: "charges" covers fees and transactions alike, and what
    # happened to a card ("stolen") only says which card.
    tracker = GoalTracker(CallerGoal(primary_goal=criterion, success_criteria=[criterion]))
    assert bool(tracker.observe(1, sentence)) is met


# Talking about a thing is not doing it: each class of sentence that mentions an act or a fact without
# doing or giving it, and paraphrases that do (the classes, not the bench corpus's sentences).
@pytest.mark.parametrize("kind, sentence, criterion", [
    (ScenarioType.CARD_REPLACEMENT, "To get a new card, you'll need to visit one of our branches.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "You can order a replacement card in the app at any time.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "Your replacement card order failed.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "I sent the request for a new card but it didn't go through.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "We'll mail a new card once you confirm your address.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "I'll order your new card today, so I can't promise anything.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "You said you want a replacement card sent out.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "Delivery times vary, it may take a few weeks.", "delivery confirmed"),
    (ScenarioType.ACCOUNT_INQUIRY, "Your balance is shown in the mobile app.", "balance provided"),
    (ScenarioType.ACCOUNT_INQUIRY, "To hear your balance, press one.", "balance provided"),
    (ScenarioType.LOAN_APPLICATION, "You can start an application online whenever you're ready.",
     "application started"),
    (ScenarioType.LOAN_APPLICATION, "Our rates are very competitive.", "interest rates provided"),
    (ScenarioType.GENERAL_INQUIRY, "Our hours vary by branch.", "hours provided"),
])
def test_mentioned_offered_conditioned_failed_or_hedged_is_not_met(catalog, kind, sentence, criterion):
    tracker = tracker_for(catalog, kind)
    tracker.observe(1, sentence)
    assert next(s for s in tracker.statuses if s.description == criterion).verdict != "met", sentence


@pytest.mark.parametrize("kind, sentence, criterion", [
    (ScenarioType.CARD_REPLACEMENT, "A replacement card has been requested for you.", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "your new card is on its way", "card ordered"),
    (ScenarioType.CARD_REPLACEMENT, "It should reach you by next Tuesday.", "delivery confirmed"),
    (ScenarioType.COMPLAINT, "You'll see a credit for the fee within two days.", "fee refunded"),
    (ScenarioType.LOAN_APPLICATION, "You must be over eighteen and have a steady income.", "requirements explained"),
    (ScenarioType.ACCOUNT_INQUIRY, "Would you like to dispute that payment?", "dispute option offered"),
    (ScenarioType.GENERAL_INQUIRY, "we open at nine am and close at half past four", "hours provided"),
])
def test_done_or_given_is_met(catalog, kind, sentence, criterion):
    tracker = tracker_for(catalog, kind)
    tracker.observe(1, sentence)
    assert next(s for s in tracker.statuses if s.description == criterion).verdict == "met", sentence


def test_weak_evidence_is_uncertain_with_its_sentence_and_never_success(catalog):
    tracker = tracker_for(catalog, ScenarioType.GENERAL_INQUIRY)
    tracker.observe(1, "We're open on Saturdays. We offer checking and savings accounts and loans.")
    hours = tracker.statuses[0]
    assert hours.to_dict() == {"description": "hours provided", "kind": "criterion", "met": False,
                               "verdict": "uncertain", "evidence_turn": 1, "evidence": "We're open on Saturdays."}
    assert (tracker.uncertain, tracker.achieved, tracker.primary_met) == (1, 1, False)
    tracker.observe(2, "Our branches open from nine to five.")  # the hours themselves, later: met
    assert (hours.verdict, hours.evidence_turn, tracker.uncertain, tracker.primary_met) == ("met", 2, 0, True)


def test_an_act_in_a_construction_the_grammar_cannot_place_is_uncertain(catalog):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    assert tracker.observe(1, "We process replacement cards at our card centre.") == []
    assert tracker.statuses[0].verdict == "uncertain"
    tracker.observe(2, "Would you like me to order one?")  # an offer does not lower a verdict
    assert tracker.statuses[0].verdict == "uncertain" and tracker.statuses[0].evidence_turn == 1


def test_only_a_clear_failure_counts(catalog):
    tracker = tracker_for(catalog, ScenarioType.COMPLAINT)
    tracker.observe(1, "We handle transfers to other departments when needed.")
    assert tracker.failure is None


def test_a_literal_past_participle_must_be_reported_done():
    tracker = GoalTracker(CallerGoal("Book a visit", success_criteria=["visit booked"]))
    tracker.observe(1, "You can book a visit online.")
    assert not tracker.primary_met
    tracker.observe(2, "Your visit has been booked for Monday.")
    assert tracker.primary_met


@pytest.mark.parametrize("kind, sentence, expected", [
    (ScenarioType.CARD_REPLACEMENT, dialogue.CARD_ORDERED.format(kind="debit"), {"card ordered", "old card blocked"}),
    (ScenarioType.CARD_REPLACEMENT, dialogue.CARD_DELIVERY, {"card ordered", "delivery confirmed"}),
    (ScenarioType.CARD_REPLACEMENT, dialogue.CARD_EXPEDITE, {"card ordered", "delivery confirmed"}),
    (ScenarioType.ACCOUNT_INQUIRY, dialogue.BALANCE, {"balance provided"}),
    (ScenarioType.ACCOUNT_INQUIRY, dialogue.TRANSACTIONS, {"transactions explained"}),
    (ScenarioType.LOAN_APPLICATION, dialogue.LOAN_OPTIONS, {"loan options explained", "interest rates provided"}),
    (ScenarioType.LOAN_APPLICATION, dialogue.LOAN_REQUIREMENTS, {"requirements explained"}),
    (ScenarioType.LOAN_APPLICATION, dialogue.LOAN_APPLICATION, {"application started"}),
    (ScenarioType.LOAN_APPLICATION, dialogue.LOAN_RATE, {"interest rates provided"}),
    (ScenarioType.COMPLAINT, dialogue.COMPLAINT_LOGGED.format(topic="the overdraft fee"),
     {"complaint acknowledged", "apology offered"}),
    (ScenarioType.COMPLAINT, dialogue.RESOLUTION_REFUND, {"resolution plan provided", "fee refunded"}),
    (ScenarioType.COMPLAINT, dialogue.RESOLUTION_REVIEW, {"resolution plan provided"}),
    (ScenarioType.GENERAL_INQUIRY, dialogue.HOURS, {"hours provided"}),
    (ScenarioType.GENERAL_INQUIRY, dialogue.SERVICES, {"services explained", "online banking mentioned"}),
])
@pytest.mark.parametrize("transform", [lambda text: text, asr], ids=["punctuated", "asr"])
def test_every_completion_of_the_reference_bridge_is_met(catalog, kind, sentence, expected, transform):
    tracker = tracker_for(catalog, kind)
    tracker.observe(1, transform(sentence))
    assert {s.description for s in tracker.statuses if s.met} == expected, transform(sentence)
    assert tracker.failure is None


@pytest.mark.parametrize("transform", [lambda text: text, asr], ids=["punctuated", "asr"])
def test_the_reference_bridge_transfer_is_a_failure(catalog, transform):
    tracker = tracker_for(catalog, ScenarioType.COMPLAINT)
    tracker.observe(1, transform(dialogue.TRANSFER))
    assert tracker.failure == "transferred without resolution"


def test_an_ivr_label_belongs_to_the_value_after_it(catalog):
    tracker = tracker_for(catalog, ScenarioType.ACCOUNT_INQUIRY)
    tracker.observe(1, "Available balance. Two thousand, four hundred and twelve dollars.")
    assert tracker.statuses[0].evidence == "Available balance. Two thousand, four hundred and twelve dollars."
    assert tracker.statuses[0].met
    tracker = tracker_for(catalog, ScenarioType.LOAN_APPLICATION)
    tracker.observe(1, "Application created. Reference: 7-7-3-1.")  # the label's own clause still reports the act
    assert next(s for s in tracker.statuses if s.description == "application started").met


@pytest.mark.parametrize("sentence, met", [("Card reissue complete.", True),
                                           ("Once the reissue is complete, we'll let you know.", False)])
def test_a_clause_ending_in_complete_reports_the_act_done(catalog, sentence, met):
    tracker = tracker_for(catalog, ScenarioType.CARD_REPLACEMENT)
    tracker.observe(1, sentence)
    assert tracker.statuses[0].met is met
