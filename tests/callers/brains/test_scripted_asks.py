"""The scripted caller answers what any agent asks: from its profile, by its goal, as its personality would."""
from __future__ import annotations

from dataclasses import replace

from callers.brains.base import HeardTurn
from callers.brains.scripted import ScriptedBrain
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import load_scenarios

GREETING = "Welcome to Harbor Credit Union. How can I help you today?"
SECURITY = "And what is the answer to your security question?"


def brain(personality: str = "normal", scenario_type: str = "card_replacement", seed: int = 0,
          context: dict | None = None, **overrides) -> tuple[ScriptedBrain, GoalTracker]:
    scenario = load_scenarios().custom_entry(personality, scenario_type, None).scenario
    if context:
        scenario = replace(scenario, context={**scenario.context, **context})
    person = replace(get_personality(personality), **overrides) if overrides else get_personality(personality)
    b = ScriptedBrain(person, scenario, seed=seed)
    return b, GoalTracker(scenario.goal)


def say(b: ScriptedBrain, tracker: GoalTracker, text: str, turn: int = 1) -> str:
    tracker.observe(turn, text)
    return b.respond(HeardTurn(text, turn), tracker).text or ""


def test_information_is_answered_from_the_profile_two_at_once_in_the_order_asked():
    b, tracker = brain(provides_clear_info=1.0, verification_demands=0.0)
    answer = say(b, tracker, "Can I have your member number and the postcode on the account?", 0)
    member, postcode = b.profile.get("member_number"), b.profile.get("postcode")
    assert member in answer and postcode in answer and answer.index(member) < answer.index(postcode)
    assert b.profile.get("card_last4") in say(b, tracker, "Thanks. What are the last four digits of your card?")
    assert b.unanswered_asks() == []


def test_offers_towards_the_goal_get_a_yes_upsells_and_unasked_transfers_a_no():
    b, tracker = brain()
    say(b, tracker, GREETING, 0)
    assert say(b, tracker, "Would you like me to cancel the old card and send you a new one?").startswith("Yes")
    assert say(b, tracker, "I can order a replacement for you. Shall I do that?").startswith("Yes")
    assert say(b, tracker, "Would you like to hear about our premium rewards credit card?").startswith("No")
    assert say(b, tracker, "Would you like me to transfer you to a specialist?").startswith("No")
    assert say(b, tracker, "Is it okay if I put you on a brief hold?").startswith(("Yes", "Sure"))
    loan, loan_tracker = brain(scenario_type="loan_application")
    assert say(loan, loan_tracker, "Would you like me to start an application for you now?").startswith("Yes")


def test_a_confirmation_is_agreed_unless_it_names_another_value_than_the_callers():
    b, tracker = brain(context={"card_type": "debit", "card_problem": "lost"})
    assert say(b, tracker, "I have you down as Jordan Miller, is that correct?").startswith("Yes")
    corrected = say(b, tracker, "So your credit card was stolen, is that right?")
    assert corrected.startswith("No") and "debit" in corrected


def test_a_choice_is_made_from_the_context_then_the_goal_then_the_first_option():
    b, tracker = brain(context={"card_type": "credit"})
    assert "credit" in say(b, tracker, "Is it your debit card or your credit card?").lower()
    account, account_tracker = brain(scenario_type="account_inquiry")
    both = say(account, account_tracker, "Would you like your balance or your recent transactions?")
    assert "balance" in both and "transactions" in both
    assert "Everyday account" in say(account, account_tracker, "Is that your everyday account or your savings?")


def test_what_no_profile_holds_is_said_like_a_person_and_recorded_once():
    b, tracker = brain(provides_clear_info=1.0, verification_demands=0.0)
    first = say(b, tracker, SECURITY)
    again = say(b, tracker, "Sorry, I need the answer to your security question to go on.")
    assert "don't have" in first or "don't know" in first
    assert "really don't have" in again
    assert b.unanswered_asks() == [SECURITY]
    prepared, prepared_tracker = brain(context={"security_answer": "Biscuit"})
    assert "Biscuit" in say(prepared, prepared_tracker, SECURITY)
    assert prepared.unanswered_asks() == []


def test_a_full_card_number_is_declined_not_counted_as_unknown():
    b, tracker = brain(scenario_type="general_inquiry", verification_demands=0.0)  # no failure condition for it
    assert "rather not" in say(b, tracker, "Can you read me the long number on the front of the card?")
    assert b.unanswered_asks() == []


def test_unclear_callers_give_part_or_need_the_question_again_then_answer_in_full():
    b, tracker = brain("confused", provides_clear_info=0.0, verification_demands=0.0)
    partial = say(b, tracker, "What's your member number and your postcode?")
    assert b.profile.get("member_number") in partial and b.profile.get("postcode") not in partial
    assert b.profile.get("postcode") in say(b, tracker, "And your postcode?")
    single, single_tracker = brain("elderly", provides_clear_info=0.0, verification_demands=0.0)
    assert "what" in say(single, single_tracker, "What's your customer ID?").lower()
    assert single.profile.get("customer_id") in say(single, single_tracker, "Your customer ID, please.")


def test_a_suspicious_caller_asks_for_proof_first_then_answers():
    b, tracker = brain("suspicious", verification_demands=1.0, provides_clear_info=1.0)
    proof = say(b, tracker, "What's your member number?")
    assert "bank" in proof.lower() and b.profile.get("member_number") not in proof
    assert b.profile.get("member_number") in say(b, tracker, "I understand. What's your member number?")


def test_an_impatient_caller_complains_when_asked_again_but_still_answers():
    b, tracker = brain("impatient", provides_clear_info=1.0, verification_demands=0.0)
    member = b.profile.get("member_number")
    assert member in say(b, tracker, "What's your member number?")
    again = say(b, tracker, "Sorry, what was your member number?")
    assert member in again and ("told you" in again or "already said" in again)
    patient, patient_tracker = brain("elderly", provides_clear_info=1.0, verification_demands=0.0)
    say(patient, patient_tracker, "What's your member number?")
    assert "told you" not in say(patient, patient_tracker, "Sorry, what was your member number?")


def test_an_agent_that_asks_nothing_hears_the_callers_reason_and_a_hold_is_waited_for():
    b, tracker = brain(provides_clear_info=1.0)
    assert "card" in say(b, tracker, "Welcome to Quiet Bank.", 0).lower()
    waiting = say(b, tracker, "Please hold while I pull up your details.")
    assert "hold" in waiting or "wait" in waiting


def test_anything_else_is_answered_with_what_is_still_unmet():
    b, tracker = brain(provides_clear_info=1.0)
    say(b, tracker, GREETING, 0)
    say(b, tracker, "I've ordered a replacement card for you.")
    still = say(b, tracker, "Is there anything else I can help you with?")
    assert "arrive" in still.lower()  # delivery is not confirmed yet
    say(b, tracker, "It will arrive within five business days.")
    assert "that's" in say(b, tracker, "Anything else today?").lower()
