"""Each personality trait has a measurable effect on ScriptedBrain's choices over many seeded decisions."""
from __future__ import annotations

import statistics
from dataclasses import replace

from callers.brains.base import HeardTurn
from callers.brains.scripted import ScriptedBrain
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import load_scenarios

LONG_PROMPT = "Our branches are open Monday to Friday nine to five, and Saturday nine to one, at every location."
GREETING = "Thank you for calling First Example Bank. How can I help you today?"
IDENTITY = "Before I can help, I need to verify your identity. Please tell me your full name and date of birth."
SAMPLES = 400


def brain(personality: str, scenario_type: str = "card_replacement", seed: int = 0, **overrides) -> ScriptedBrain:
    entry = load_scenarios().custom_entry(personality, scenario_type, None)
    person = replace(get_personality(personality), **overrides) if overrides else get_personality(personality)
    return ScriptedBrain(person, entry.scenario, seed=seed)


def tracker_for(b: ScriptedBrain) -> GoalTracker:
    return GoalTracker(b.scenario.goal)


def test_tendency_to_interrupt_sets_the_barge_in_rate():
    rates = {}
    for value in (0.0, 0.5, 0.9):
        b = brain("normal", tendency_to_interrupt=value)
        rates[value] = sum(b.interruption_offset(LONG_PROMPT) is not None for _ in range(SAMPLES)) / SAMPLES
    assert rates[0.0] == 0.0
    assert abs(rates[0.5] - 0.5) < 0.08 and abs(rates[0.9] - 0.9) < 0.06
    short = brain("angry")
    assert all(short.interruption_offset("Okay.") is None for _ in range(50))


def test_provides_clear_info_sets_how_often_details_come_first_time():
    def complete_share(clarity: float) -> float:
        complete = 0
        for seed in range(SAMPLES // 4):
            b = brain("normal", seed=seed, provides_clear_info=clarity, verification_demands=0.0)
            answer = b.respond(HeardTurn(IDENTITY, 1), tracker_for(b)).text
            complete += "born" in answer or "birth" in answer
        return complete / (SAMPLES // 4)

    assert complete_share(0.9) > 0.8
    assert complete_share(0.3) < 0.45


def test_identity_is_always_complete_when_asked_again():
    b = brain("confused", provides_clear_info=0.0, verification_demands=0.0)
    tracker = tracker_for(b)
    first = b.respond(HeardTurn(IDENTITY, 1), tracker).text
    second = b.respond(HeardTurn("I still need your date of birth to verify you.", 2), tracker).text
    assert "birth" not in first and "born" not in first
    assert "birth" in second or "born" in second


def test_suspicious_callers_ask_the_agent_to_prove_itself():
    asked = 0
    for seed in range(100):
        b = brain("suspicious", seed=seed)
        asked += "bank" in b.respond(HeardTurn(IDENTITY, 1), tracker_for(b)).text.lower()
    normal = sum("really the bank" in brain("normal", seed=s).respond(HeardTurn(IDENTITY, 1),
                                                                       tracker_for(brain("normal"))).text
                 for s in range(100))
    assert asked > 75 and normal < 10


def test_low_patience_hangs_up_after_slow_turns_high_patience_does_not():
    def turns_until_hang_up(personality: str) -> int:
        b = brain(personality)
        tracker = tracker_for(b)
        b.respond(HeardTurn(GREETING, 0), tracker)
        for turn in range(1, 10):
            reply = b.respond(HeardTurn("Let me look into that.", turn, response_latency_ms=4000), tracker)
            if reply.hang_up:
                assert reply.reason == "caller lost patience"
                return turn
        return 99

    assert turns_until_hang_up("angry") < turns_until_hang_up("normal")
    assert turns_until_hang_up("angry") <= 2


def test_slow_personalities_pause_longer_and_speak_slower():
    elderly, impatient = brain("elderly"), brain("impatient")
    assert statistics.mean(elderly.pause_before_reply() for _ in range(50)) > \
        2 * statistics.mean(impatient.pause_before_reply() for _ in range(50))
    assert elderly.personality.speaking_rate_wpm < impatient.personality.speaking_rate_wpm


def test_a_request_not_understood_is_rephrased_not_parroted():
    b = brain("confused", "loan_application", provides_clear_info=0.0)
    tracker = tracker_for(b)
    vague = b.respond(HeardTurn(GREETING, 0), tracker).text
    reprompt = "I'm sorry, I didn't catch that. Could you tell me what you need help with?"
    wordings = [b.respond(HeardTurn(reprompt, turn), tracker).text for turn in range(1, 4)]
    assert all("loan" in wording and wording != vague for wording in wordings)
    assert len(set(wordings)) == 3, wordings


def test_other_lines_are_repeated_without_stacking_prefixes():
    b = brain("normal", verification_demands=0.0, provides_clear_info=1.0)
    tracker = tracker_for(b)
    b.respond(HeardTurn(GREETING, 0), tracker)
    answer = b.respond(HeardTurn(IDENTITY, 1), tracker).text
    again = b.respond(HeardTurn("Sorry, could you repeat that?", 2), tracker).text
    again2 = b.respond(HeardTurn("Sorry, could you repeat that?", 3), tracker).text
    assert again.endswith(answer) and again2.endswith(answer)
    assert len(again2) - len(answer) <= max(len(p) for p in ("I said, ", "Like I said, ", "Again, "))


def test_goal_met_then_anything_else_wraps_up_and_goodbye_hangs_up():
    b = brain("normal")
    tracker = tracker_for(b)
    b.respond(HeardTurn(GREETING, 0), tracker)
    heard = ("Thank you, you're verified. I've blocked your old debit card and ordered a replacement card. "
             "Your new card will be delivered to your address on file within five to seven business days.")
    met = tracker.observe(2, heard)
    assert tracker.primary_met
    wrap = b.respond(HeardTurn(heard + " Is there anything else I can help you with?", 2, new_goals_met=len(met)),
                     tracker)
    assert not wrap.hang_up and ("all" in wrap.text or "everything" in wrap.text)
    bye = b.respond(HeardTurn("Thank you for calling First Example Bank. Goodbye.", 3), tracker)
    assert bye.hang_up and bye.text is None


def test_same_seed_same_conversation():
    def lines(seed: int) -> list:
        b = brain("difficult", seed=seed)
        tracker = tracker_for(b)
        return [b.respond(HeardTurn(text, i), tracker).text for i, text in enumerate([GREETING, IDENTITY, IDENTITY])]

    assert lines(4) == lines(4)
    assert any(lines(4) != lines(s) for s in range(5, 15))


def test_barge_in_says_the_interjection_then_the_point_and_never_twice_in_a_row():
    b = brain("angry", "complaint")
    tracker = tracker_for(b)
    reply = b.barge_in(HeardTurn("Thank you for calling First Example", 0, was_cut_off=True), tracker)
    interjections = b.lines["style"]["angry"]["interjection"]
    assert any(reply.text.startswith(i) for i in interjections)
    assert "complain" in reply.text.lower()
    assert all(b.interruption_offset(LONG_PROMPT) is None for _ in range(20))
    b.respond(HeardTurn("I'm sorry about that. I've logged your complaint about the overdraft fee.", 1), tracker)
    assert any(b.interruption_offset(LONG_PROMPT) is not None for _ in range(20))


def test_follow_up_questions_are_filled_from_the_context():
    b = brain("normal", "complaint", provides_clear_info=1.0)
    tracker = tracker_for(b)
    b.respond(HeardTurn(GREETING, 0), tracker)
    question = b.respond(HeardTurn("Let me look into that for you.", 1), tracker).text
    assert "{" not in question and "}" not in question


def test_a_caller_not_understood_says_it_again_more_slowly():
    b = brain("angry", verification_demands=0.0)
    tracker = tracker_for(b)
    b.respond(HeardTurn(GREETING, 0), tracker)
    first = b.respond(HeardTurn(IDENTITY, 1), tracker)
    again = b.respond(HeardTurn("I still need your date of birth to verify you.", 2), tracker)
    assert not first.slower and again.slower
    assert not b.respond(HeardTurn("Thank you, you're verified.", 3), tracker).slower


def test_a_spanish_scenario_speaks_spanish_and_falls_back_to_english_for_what_is_missing() -> None:
    from callers.brains.scripted import _lines_for

    spanish, english = _lines_for("es-ES"), _lines_for("en-US")
    assert spanish["wrap_up"]["done"][0].startswith("No, eso es todo")
    assert "en qué puedo ayudarle" in spanish["cues"]["greeting"]
    assert spanish["opening"]["card_replacement"]["clear"] != english["opening"]["card_replacement"]["clear"]
    assert _lines_for("fr-FR") == english
