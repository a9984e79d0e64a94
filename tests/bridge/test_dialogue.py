"""The bank agent's policy, driven with text the way a recogniser would deliver it."""
from __future__ import annotations

import pytest

from bridge import dialogue
from bridge.dialogue import Action, BankAgent, State, agent_phrases

pytestmark = pytest.mark.timeout(10)

PHRASES = set(agent_phrases())
DOB = "John Smith, born March 3rd 1952."


def converse(agent: BankAgent, *lines: str) -> list[dialogue.Reply]:
    """Every reply must be made of known sentences: the caller's goal tracker and the speech benchmark
    both rely on the agent never saying anything outside agent_phrases()."""
    replies = [agent.respond(line) for line in lines]
    for reply in replies:
        assert set(reply.sentences) <= PHRASES, reply.sentences
    return replies


def test_greeting() -> None:
    reply = BankAgent().greet()
    assert reply.text == "Thank you for calling First Example Bank. How can I help you today?"
    assert reply.state is State.GREETING and reply.action is None


def test_card_replacement_flow() -> None:
    agent = BankAgent()
    agent.greet()
    ask, verified, delivery, goodbye = converse(
        agent, "Hi, my credit card was stolen and I need a replacement card.", DOB, "Okay, thank you.",
        "No, that's everything. Thank you.")
    assert ask.text == dialogue.ASK_IDENTITY and ask.state is State.IDENTITY
    assert verified.text == ("Thank you, you're verified. "
                             "I've blocked your old credit card and ordered a replacement card.")
    assert verified.fulfilled == ("card_ordered",)
    assert delivery.sentences == (dialogue.CARD_DELIVERY, dialogue.ANYTHING_ELSE)
    assert goodbye.text == dialogue.GOODBYE and goodbye.action is Action.HANGUP
    assert agent.finished and agent.verified and agent.scenario_type == dialogue.CARD
    assert agent.fulfilled == ["card_ordered", "delivery_date"]


def test_account_inquiry_flow_tells_one_fact_per_turn() -> None:
    agent = BankAgent()
    ask, balance, transactions, anything_else, goodbye = converse(
        agent, "I'd like to check my account balance and my recent transactions", "nineteen fifty two",
        "okay", "great", "no")
    assert ask.state is State.IDENTITY
    assert balance.sentences == (dialogue.VERIFIED, dialogue.BALANCE)
    # The transactions sentence is long, so "anything else?" waits for the next turn.
    assert transactions.sentences == (dialogue.TRANSACTIONS,) and transactions.state is State.WRAP_UP
    assert anything_else.text == dialogue.ANYTHING_ELSE
    assert goodbye.action is Action.HANGUP
    assert agent.fulfilled == ["balance", "transactions"]


def test_loan_flow_needs_no_identity() -> None:
    agent = BankAgent()
    options, requirements, application, goodbye = converse(
        agent, "I'm interested in a personal loan of about ten thousand dollars", "okay", "sounds good",
        "that's all, bye")
    assert options.text == dialogue.LOAN_OPTIONS and options.state is State.INFORMING
    assert requirements.text == dialogue.LOAN_REQUIREMENTS
    assert application.sentences == (dialogue.LOAN_APPLICATION, dialogue.ANYTHING_ELSE)
    assert goodbye.action is Action.HANGUP
    assert not agent.verified
    assert agent.fulfilled == ["loan_options", "loan_requirements", "application_started"]


def test_complaint_flow_names_the_topic_and_refunds_a_fee() -> None:
    agent = BankAgent()
    _, logged, resolution, _ = converse(
        agent, "I want to complain about an overdraft fee of thirty five dollars", "It's Mary, May 5 1948",
        "okay", "no thanks")
    assert logged.sentences == (dialogue.VERIFIED,
                                "I'm sorry about that. I've logged your complaint about the overdraft fee.")
    assert resolution.sentences == (dialogue.RESOLUTION_REFUND, dialogue.ANYTHING_ELSE)
    assert agent.fulfilled == ["complaint_logged", "resolution_plan"] and agent.finished


def test_complaint_about_service_gets_a_review_not_a_refund() -> None:
    agent = BankAgent()
    _, logged, resolution = converse(agent, "I'm unhappy, the staff at your branch were rude", DOB, "ok")
    assert logged.sentences[-1].endswith("the service you received.")
    assert resolution.sentences[0] == dialogue.RESOLUTION_REVIEW


def test_general_inquiry_flow() -> None:
    agent = BankAgent()
    hours, services, goodbye = converse(agent, "What are your opening hours and what services do you offer?",
                                        "thanks", "no that's it")
    assert hours.text == dialogue.HOURS
    assert services.sentences == (dialogue.SERVICES, dialogue.ANYTHING_ELSE)
    assert goodbye.action is Action.HANGUP
    assert agent.fulfilled == ["hours", "services"]


@pytest.mark.parametrize("heard, intent", [
    ("i lost my debit card", dialogue.CARD),
    ("hi um i have a problem with my card", dialogue.CARD),
    ("I NEED TO CHECK MY ACCOUNT BALANCED", dialogue.ACCOUNT),  # "balanced": misrecognised, stem still matches
    ("whats my balance", dialogue.ACCOUNT),
    ("i was thinking about maybe borrowing some money", dialogue.LOAN),
    ("i was overcharged a fee on my card", dialogue.COMPLAINT),
    ("im not happy with something on my account", dialogue.COMPLAINT),
    ("what time do you open on saturday", dialogue.GENERAL),
    ("i just had a general question about the bank", dialogue.GENERAL),
])
def test_intent_from_recogniser_style_text(heard: str, intent: str) -> None:
    agent = BankAgent()
    agent.respond(heard)
    assert agent.scenario_type == intent


@pytest.mark.parametrize("answer", [
    "my name is alex morgan and i was born on the third of march",
    "john smith nineteen eighty",
    "john smith 03 12 1952",
    "19520312",  # DTMF digits
    "its the twelfth of may",
    "three twelve fifty two",
])
def test_identity_accepts_date_of_birth_however_it_is_written(answer: str) -> None:
    agent = BankAgent()
    agent.respond("my card was stolen")
    reply = agent.respond(answer)
    assert agent.verified, answer
    assert reply.sentences[0] == dialogue.VERIFIED


def test_may_the_verb_is_not_a_date() -> None:
    agent = BankAgent()
    agent.respond("my card was stolen")
    assert agent.respond("may i ask why").text == dialogue.ASK_IDENTITY_AGAIN
    assert not agent.verified


def test_identity_failures_end_in_a_transfer() -> None:
    agent = BankAgent()
    agent.respond("I lost my card")
    first, second, third = converse(agent, "It's John Smith.", "I'd rather not say", "john")
    assert first.text == second.text == dialogue.ASK_IDENTITY_AGAIN
    assert third.text == dialogue.TRANSFER and third.action is Action.TRANSFER
    assert agent.transferred and agent.identity_failures == 3 and agent.finished
    assert agent.fulfilled == []


def test_suspicious_caller_is_reassured_and_the_pending_question_repeated() -> None:
    agent = BankAgent()
    agent.respond("my card was stolen")
    reply = agent.respond("Before I tell you anything, how do I know this is really the bank?")
    assert reply.sentences == (dialogue.REASSURE, "Please tell me your full name and date of birth.")
    assert reply.state is State.IDENTITY
    assert agent.identity_failures == 0
    assert agent.respond("is this a scam").sentences[0] == dialogue.REASSURE
    agent.respond(DOB)
    assert agent.verified


def test_suspicious_at_the_start_repeats_how_can_i_help() -> None:
    reply = BankAgent().respond("how can i be sure you are really from the bank")
    assert reply.sentences == (dialogue.REASSURE, "How can I help you today?")


def test_unknown_request_is_reprompted_and_counted() -> None:
    agent = BankAgent()
    assert agent.respond("hmm well the thing is").text == dialogue.REPROMPT
    assert agent.respond("").text == dialogue.REPROMPT
    assert agent.reprompts == 2 and agent.state is State.GREETING


@pytest.mark.parametrize("goodbye", ["goodbye", "ok bye", "thats all thanks", "nothing else"])
def test_goodbye_at_any_point_hangs_up(goodbye: str) -> None:
    agent = BankAgent()
    agent.respond("I lost my card")
    reply = agent.respond(goodbye)
    assert reply.text == dialogue.GOODBYE and reply.action is Action.HANGUP
    with pytest.raises(RuntimeError):
        agent.respond("hello?")


def test_follow_up_questions_are_answered_from_the_same_facts() -> None:
    agent = BankAgent()
    converse(agent, "my debit card is damaged", DOB)
    assert agent.respond("when will it arrive").sentences[0] == dialogue.CARD_DELIVERY
    assert agent.respond("when we'll derive").sentences[0] == dialogue.CARD_DELIVERY  # Whisper-tiny, verbatim
    assert agent.respond("when are your branches open").sentences[0] == dialogue.HOURS  # another topic
    assert agent.respond("can you expedite that").sentences[0] == dialogue.CARD_EXPEDITE

    loan = BankAgent()
    converse(loan, "i want a loan")
    assert loan.respond("whats the interest rate").sentences[0] == dialogue.LOAN_RATE

    complaint = BankAgent()
    converse(complaint, "i want to make a complaint", DOB)
    assert complaint.respond("what about the fee").sentences[0] == dialogue.RESOLUTION_REFUND
    assert complaint.respond("and the refund").sentences[0] == dialogue.REFUND_TIMING


def test_several_requests_in_one_call_verify_once() -> None:
    agent = BankAgent()
    converse(agent, "I lost my debit card", DOB, "ok")
    balance = agent.respond("yes, what's my balance")
    assert balance.sentences == (dialogue.BALANCE, dialogue.ANYTHING_ELSE)
    hours = agent.respond("and when are you open")
    assert hours.sentences[0] == dialogue.HOURS
    assert agent.fulfilled == ["card_ordered", "delivery_date", "balance", "hours"]
    assert agent.scenario_type == dialogue.CARD


def test_an_interrupted_fact_is_said_again() -> None:
    agent = BankAgent()
    converse(agent, "i lost my card", DOB)
    agent.interrupted()
    again = agent.respond("hold on hold on")
    assert again.sentences[0] == dialogue.CARD_ORDERED.format(kind="debit")
    assert agent.respond("ok").sentences[0] == dialogue.CARD_DELIVERY


def test_repeat_request_says_the_last_reply_again() -> None:
    agent = BankAgent()
    first = agent.respond("i want a loan")
    assert agent.respond("sorry could you repeat that").sentences == first.sentences
    assert agent.fulfilled == ["loan_options"]


@pytest.mark.parametrize("scenario", dialogue.SCENARIO_TYPES)
def test_expected_answers_complete_every_scenario(scenario: str) -> None:
    """Without an ear the bridge pretends to hear the cooperative answer; each scenario must then finish."""
    agent = BankAgent(scenario_hint=scenario)
    agent.greet()
    for _ in range(10):
        reply = agent.respond(agent.expected_caller_text())
        assert set(reply.sentences) <= PHRASES
        if agent.finished:
            break
    assert agent.finished and reply.action is Action.HANGUP
    assert agent.scenario_type == scenario
    assert len(agent.fulfilled) >= 2


def test_unknown_scenario_hint_falls_back_to_general() -> None:
    assert BankAgent(scenario_hint="tax_advice").expected_caller_text() == \
        dialogue.EXPECTED_REQUEST[dialogue.GENERAL]


def test_agent_turns_stay_short() -> None:
    """Long monologues make every test and load run slow; only the reassurance may run long."""
    for phrase in agent_phrases():
        if phrase != dialogue.REASSURE:
            assert len(phrase.split()) <= dialogue.MAX_TURN_WORDS, phrase


def test_normalize_is_recogniser_friendly() -> None:
    assert dialogue.normalize("That's my DEBIT card! It’s gone.") == "thats my debit card its gone"
