"""bridge/flows.py: the flow file's checks, the plausibility checks a bot makes of what it hears, and the
flows as bots (`FlowBot`) talked through in text by the scripted caller, as the bridge plays them."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.agent_flows import converse
from bridge.__main__ import parse_settings
from bridge.dialogue import Action, State
from bridge.flows import FLOWS_FILE, FlowBot, FlowError, HeardAnswers, load_flow_book
from callers.brains.scripted import ScriptedBrain
from callers.outcome import Outcome, outcome_of
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import ScenarioType, load_scenarios
from callers.wire import protocol
from tests.bridge.conftest import FAST_VOICE, TestCaller, read_truth, tone

BOOK = load_flow_book()
ENGLISH = [name for name, flow in BOOK.flows.items() if BOOK.language_of(flow) == "en"]
UNPREPARED = {"security_question"}


class TextBot:
    """A FlowBot behind bench.agent_flows' two calls: what the bridge would say, in text."""

    def __init__(self, bot: FlowBot) -> None:
        self.bot = bot

    def greet(self) -> str:
        return self.bot.greet().text

    def respond(self, caller_text: str) -> tuple[str, bool]:
        reply = self.bot.respond(caller_text)
        return reply.text, reply.action is not None


@pytest.mark.parametrize("name", ENGLISH)
def test_a_flow_as_a_bot_takes_every_plausible_answer_of_the_scripted_caller(name):
    """Without the caller's profile the bot checks format only; every answer the caller gives must pass, with
    the scenario type told from the request (no hint) as well as from the call's scenarioType."""
    catalog = load_scenarios()
    for personality in ("normal", "confused", "suspicious"):
        for kind in ScenarioType:
            for hint in (kind.value, None):
                scenario = catalog.custom_entry(personality, kind.value, None).scenario
                brain = ScriptedBrain(get_personality(personality), scenario, seed=3)
                bot = FlowBot(BOOK, name, hint)
                conversation = converse(brain, TextBot(bot))
                where = (name, personality, kind.value, hint, conversation.transcript)
                outcome = outcome_of(conversation.goal_met, None, len(conversation.unanswered))
                if name in UNPREPARED:
                    assert outcome is Outcome.CALLER_NOT_PREPARED, where
                else:
                    assert outcome is Outcome.SUCCESS, where
                    assert bot.flow.tally.answered == bot.flow.tally.questions, where
                    assert bot.scenario_type == kind.value and bot.verified, where


def test_the_spanish_flow_as_a_bot_serves_the_spanish_scenario():
    scenario = load_scenarios().predefined_entry("spanish_card_replacement").scenario
    brain = ScriptedBrain(get_personality("normal"), scenario, seed=1)
    bot = FlowBot(BOOK, "banco_sol", None)
    conversation = converse(brain, TextBot(bot))
    assert conversation.goal_met and not conversation.unanswered, conversation.transcript
    assert bot.scenario_type == "card_replacement"


@pytest.mark.parametrize("name", list(BOOK.flows))
def test_without_an_ear_the_bot_assumes_answers_its_own_flow_accepts(name):
    """--ear none (or a language the recogniser does not know): what the bot assumes moves the flow on."""
    bot = FlowBot(BOOK, name, BOOK.scenario_types(BOOK.flow(name))[0])
    reply = bot.greet()
    for _ in range(40):
        if reply.action is not None:
            break
        reply = bot.respond(bot.expected_caller_text())
    assert reply.action is Action.HANGUP and reply.state is State.ENDED
    assert bot.flow.tally.agent_gave_up is (name in UNPREPARED)


def test_a_statement_talked_over_is_said_again_and_a_question_is_not():
    bot = FlowBot(BOOK, "never_asks", "general_inquiry")
    bot.greet()
    statement = bot.respond("What are your opening hours?")
    bot.interrupted()
    assert bot.respond("Sorry, go on.").text == statement.text
    assert bot.fulfilled == ["general_inquiry.1"]


@pytest.mark.parametrize("field, heard, plausible", [
    ("member_number", "My member number is 3-1-4-6-4-1-9-7.", True),
    ("member_number", "it's three one four six four one nine seven", True),
    ("member_number", "I don't have that with me.", False),
    ("customer_id", "My customer ID is 1.844090.", True),
    ("postcode", "My post code is 08772.", True),
    ("postcode", "it's SW1A 1AA", True),
    ("postcode", "two", False),
    ("card_last4", "4 8 2 1", True),
    ("card_last4", "48", False),
    ("date_of_birth", "My date on Thursday, August 30, 1995.", True),
    ("date_of_birth", "nací el catorce de junio", True),
    ("date_of_birth", "I'd rather not say", False),
    ("email", "lucia.fernandez1 at hotmail.com", True),
    ("email", "alex at example dot com", True),
    ("email", "my email", False),
    ("phone", "(555) 123-4567", True),
    ("address", "77763 Tony Village Suite 690", True),
    ("amount", "It was thirty five dollars.", True),
    ("security_answer", "Fluffy", False),  # no caller can know the bank's secret: never accepted
])
def test_a_bot_checks_what_it_hears_for_plausibility(field, heard, plausible):
    assert HeardAnswers(BOOK, "en").holds(field, heard) is plausible


def test_known_mishearings_are_read_as_the_word_meant():
    english = BOOK.languages["en"]
    assert english.as_meant("It's my David card.") == "It's my debit card."
    heard = "Check in your account, please. a.b at x.com"
    assert english.as_meant(heard) == "checking your account, please. a.b at x.com"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flows.toml"
    path.write_text(FLOWS_FILE.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, problem", [
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ say = "Hi?", expect = ["pin"] }]\n',
     "flow 'x' step 1: field 'pin' has no [formats] entry"),
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ say = "Hi?", expect = "maybe" }]\n',
     "flow 'x' step 1: expect: 'maybe' is none of"),
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ say = "Hi?", sya = "typo" }]\n',
     "flow 'x' step 1: unknown key 'sya'"),
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ service = true }]\n',
     "flow 'x' step 1: the service comes before the agent asks for the request"),
    ('[[flows]]\nname = "x"\nlanguage = "fr"\ngoodbye = "Au revoir."\nsteps = [{ say = "Bonjour." }]\n',
     "flow 'x': language: 'fr' has no [languages.fr]"),
    ('[[flows]]\nname = "credit_union"\ngoodbye = "Bye."\nsteps = [{ say = "Hi." }]\n',
     "flow 'credit_union': a second flow of this name"),
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ say = "Hi?", expect = "choice" }]\n',
     "flow 'x' step 1: accept: must be a list"),
    ('[[flows]]\nname = "x"\ngoodbye = "Bye."\nsteps = [{ say = "Is it {pet_name}?", expect = "yes" }]\n',
     "flow 'x' step 1: {pet_name} is in neither [records] nor the language's choices"),
])
def test_a_broken_flow_file_names_the_file_and_the_problem(tmp_path, extra, problem):
    path = _write(tmp_path, extra)
    with pytest.raises(FlowError) as error:
        load_flow_book(path)
    assert str(error.value).startswith(f"{path}: ") and problem in str(error.value)


def test_the_bridge_command_exits_2_naming_the_file_and_the_problem(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_settings(["--agent-flow", "no_such_flow"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert f"{FLOWS_FILE}: no flow named 'no_such_flow' (flows: credit_union" in error and "usage:" not in error
    broken = tmp_path / "broken.toml"
    broken.write_text("[[flows]\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        parse_settings(["--agent-flow", "x", "--agent-flows", str(broken)])
    assert exit_.value.code == 2 and f"{broken}: not valid TOML" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        parse_settings(["--agent-flows", str(broken)])
    assert exit_.value.code == 2 and "--agent-flow NAME" in capsys.readouterr().err
    settings, _ = parse_settings(["--agent-flow", "credit_union"])
    assert settings.agent_flow == "credit_union" and settings.agent_flows is None


@pytest.mark.slow  # six prompts in real time: about 10 s
def test_a_flow_bot_on_the_wire_speaks_each_step_and_logs_its_truth(start_bridge, callers_to_close, tmp_path):
    """The flow as the bridge's agent, without an ear: every step is spoken with altText and audio, the
    answers it assumes move it on, it hangs up after its goodbye, and its truth names the flow."""
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--agent-flow", "two_at_once", "--truth-log", str(truth), *FAST_VOICE)
    assert bridge.listening_line.endswith("agent=two_at_once)")
    caller = TestCaller(bridge.url)
    callers_to_close.append(caller)
    assert caller.initiate().type == protocol.SESSION_ACCEPTED
    caller.start("general_inquiry")
    heard = []
    while True:
        prompt = caller.hear_prompt()
        assert prompt.chunks, "a step spoken without audio"
        heard.append(prompt.alt_text)
        if "Bye now" in heard[-1]:
            break
        caller.say(tone(0.3))
        assert len(heard) < 8, heard
    flow = BOOK.flow("two_at_once")
    assert heard[:2] == [flow["steps"][0]["say"], flow["steps"][1]["say"]]
    assert heard[2:4] == [step["say"] for step in BOOK.services["en"]["general_inquiry"]]
    _, hangup = caller.expect(protocol.ACTIVITIES)
    assert [activity.name for activity in hangup.activities()] == [protocol.ACTIVITY_HANGUP]
    caller.end()
    [call] = read_truth(truth)
    assert call["agent_flow"] == "two_at_once" and call["scenario_type"] == "general_inquiry" and call["verified"]
    assert call["fulfilled"] == ["general_inquiry.1", "general_inquiry.2"] and call["hung_up_by"] == "bot"
    assert call["turns"][1]["assumed"] == "1 6 1 8 0 3 3 9 8. March 3, 1980"
