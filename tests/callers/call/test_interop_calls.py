"""Whole CallerAgent calls against the interop peer (tests/callers/transport/interop_peer.py): the protocol's
deviations reach the call's result and the console, strict mode ends the call, an echoing bot meets no goal,
a bot sending big chunks is not talked over, bots that leave out what is optional or end the call their own
way are carried and named, and the caller always ends a call so the bot can release it. Calls that do not
depend on each other run at once (one gevent hub), so the module takes about as long as its longest calls."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import gevent
import pytest

from callers import CallerAgent, load_scenarios
from callers.app import cli
from callers.app.probe import BridgeProbe, Status
from callers.brains.base import Brain, HeardTurn, Reply
from callers.call.agent import GREETING_WITHOUT_WORDS, NO_ALT_TEXT, NO_SPEECH_EVENTS
from callers.call.echo import ECHO_NOTE
from callers.results import CallResult, ProtocolNote, note_lines
from callers.scenario.goals import GoalTracker
from callers.transport.telephony import CLOSED_WITHOUT_HANGUP, STREAM_NOT_ACKED
from tests.callers.transport.peers import running_peer

PEER = Path(__file__).parents[1] / "transport" / "interop_peer.py"
STOLEN = "My card was stolen."
ORDER = "Can you order me a replacement card?"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Where the peer writes every message it receives."""
    return tmp_path_factory.mktemp("peer") / "received.jsonl"


@pytest.fixture(scope="module")
def peer(recorded):
    with running_peer(PEER, "--record", str(recorded)) as url:
        yield url + "/ws"


def received(recorded, call_id: str) -> list[str]:
    """What the peer received on one call, in order, once it has read the connection to its end: message
    types, an activity as `activities:<names>`, and `peer.hangup` where the peer itself ended the call."""
    deadline = time.monotonic() + 5.0
    while True:
        kinds = []
        for line in recorded.read_text().splitlines():
            item = json.loads(line)
            if item["cid"] == call_id:
                kinds.append(f"activities:{','.join(item['names'])}" if item["type"] == "activities" else item["type"])
        if kinds[-1:] == ["peer.closed"]:
            return kinds[:-1]
        assert time.monotonic() < deadline, kinds
        time.sleep(0.05)


class Lines(Brain):
    """Says its lines in order, one per agent turn, never talks over a prompt, then hangs up."""

    name = "lines"

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)

    def respond(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        return Reply(self.lines.pop(0)) if self.lines else Reply(None, hang_up=True, reason="lines said")

    def barge_in(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        return self.respond(heard, goals)

    def interruption_offset(self, alt_text: Optional[str]) -> Optional[float]:
        return None

    def pause_before_reply(self) -> float:
        return 0.05  # quick, so a prompt wrongly taken for finished is talked over at once


class Breaks(Lines):
    """A brain that fails once it has heard the greeting: the caller's own error, after the accept."""

    def respond(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        raise RuntimeError("brain broke")


def call(url: str, *lines: str, brain: Optional[Brain] = None, timeout: float = 40, ear: str = "alttext",
         **options) -> tuple[CallerAgent, CallResult]:
    scenario = load_scenarios().custom_entry("normal", "card_replacement", None).scenario
    agent = CallerAgent(url, "normal", scenario, caller_name="Interop", brain=brain or Lines(*lines), ear=ear,
                        seed=5, **options)
    return agent, agent.run(timeout)


def at_once(*calls: tuple) -> list[CallResult]:
    """Run calls together, each `(url, lines, options)`; their results in the same order."""
    greenlets = [gevent.spawn(call, url, *lines, **options) for url, lines, options in calls]
    gevent.joinall(greenlets, raise_error=True)
    return [greenlet.value[1] for greenlet in greenlets]


def notes_of(result: CallResult) -> dict[str, int]:
    return {note.what: note.count for note in result.protocol_notes}


def goal(result: CallResult, description: str) -> dict:
    return next(item for item in result.goals if item["description"] == description)


def test_deviations_reach_the_result_and_the_console_line(peer, capsys):
    _, result = call(f"{peer}?greet_early=1&extra=1", STOLEN)
    assert result.error is None, result.error
    notes = {note.what: note for note in result.protocol_notes}
    assert "audio streamed before session.accepted" in notes
    assert any(what.endswith("with unknown fields: botTrace") for what in notes), notes
    assert all(isinstance(note, ProtocolNote) and note.count >= 1 and note.first_ms >= 0 for note in notes.values())
    assert CallResult.from_dict(result.to_dict()).protocol_notes == result.protocol_notes
    clean = CallResult.from_dict({**result.to_dict(), "protocol_notes": []})
    lines = note_lines([result, clean])
    assert "protocol note: audio streamed before session.accepted (1 of 2 calls)" in lines
    cli._print_protocol_notes([result, clean])
    assert capsys.readouterr().out.splitlines() == lines


def test_a_strict_caller_ends_the_call_as_protocol_error_on_the_first_deviation(peer):
    _, result = call(f"{peer}?bare=1", STOLEN, strict_protocol=True)
    assert result.error_category == "protocol_error" and not result.success
    assert "protocol deviation (strict):" in result.error.message
    assert "without conversationId" in result.error.message
    assert result.protocol_notes and "without conversationId" in result.protocol_notes[0].what


def test_a_bot_echoing_the_caller_meets_no_goal(peer):
    # The bot's recogniser mishears the caller's line ("card" as "car") and plays the caller's audio back.
    echoes = quote("my card was stolen|can order me a replacement car")
    _, result = call(f"{peer}?echo={echoes}", STOLEN, ORDER)
    assert result.error is None, result.error
    assert [turn.agent_text for turn in result.turn_records] == ["my card was stolen",
                                                                 "can order me a replacement car"]
    assert not goal(result, "card ordered")["met"] and not result.success
    notes = {note.what: note.count for note in result.protocol_notes}
    assert notes == {ECHO_NOTE: 2}


def test_an_agent_repeating_a_detail_back_still_meets_the_goal(peer):
    reply = quote("You said your card was stolen, I've ordered a replacement.")
    _, result = call(f"{peer}?reply_alt={reply}", STOLEN, ORDER)
    assert result.error is None, result.error
    assert goal(result, "card ordered")["met"]
    assert result.protocol_notes == []


def test_a_bot_sending_one_second_chunks_is_not_talked_over(peer):
    # 1 s of audio per chunk, in real time, and no playStream.stop: between chunks the line is quiet for
    # longer than the chunk-silence rule, though the audio received is still playing.
    agent, result = call(f"{peer}?chunk_ms=1000&nostop=1", STOLEN)
    assert result.error is None, result.error
    assert result.barge_ins == [] and not any(turn.barge_in for turn in result.turn_records)
    greeting_voiced = agent.client.greeting_from_at + result.greeting_latency_ms / 1000.0
    caller_spoke = result.t0_monotonic + result.turn_records[0].caller_speech_start
    assert caller_spoke >= greeting_voiced + 1.2  # the peer's greeting is 1.2 s of audio


def test_the_bridge_check_lists_each_deviation_and_the_strict_verdict(peer):
    report = BridgeProbe(f"{peer}?greet_early=1", formats=("raw/lpcm16",), greeting_wait_s=5.0).run()
    protocol = [check for check in report.checks if check.name == "protocol"]
    assert any(check.detail.startswith("audio streamed before session.accepted (") for check in protocol), protocol
    assert all(check.status is Status.NO for check in protocol)
    strict = [check for check in report.checks if check.name == "strict"]
    assert len(strict) == 1 and strict[0].status is Status.NO and "would fail --strict-protocol" in strict[0].detail
    assert report.works  # a deviation a gateway carries is not a failure


def test_the_bridge_check_of_a_bot_keeping_to_the_protocol_says_strict_passes(peer):
    report = BridgeProbe(peer, formats=("raw/lpcm16",), greeting_wait_s=5.0).run()
    lines = {check.name: check for check in report.checks}
    assert lines["protocol"].status is Status.OK and lines["strict"].status is Status.OK, report.checks


@pytest.mark.parametrize("flags, verdict, said", [
    ([], "ended: call_timeout", "protocol note: session.accepted without conversationId (1 of 1 call)"),
    (["--strict-protocol"], "ended: protocol_error",
     "protocol deviation (strict): session.accepted without conversationId"),
    (["--accept-timeout", "0.5"], "FAILED (handshake_rejected)", "no session.accepted within 0.5 s"),
])
def test_the_command_line_carries_strict_and_the_accept_timeout(peer, tmp_path, flags, verdict, said):
    # As a person runs it: caller_cli.py against a bot that leaves out conversationId (carried, and noted
    # once; refused when strict), or one that accepts 2 s late (refused past a 0.5 s accept timeout). The
    # peer's tones meet no goal, so the carried call runs to its 5 s timeout.
    url = f"{peer}?accept_delay_s=2" if "--accept-timeout" in flags else f"{peer}?bare=1"
    run = subprocess.run([sys.executable, "caller_cli.py", "--bridge-url", url, "--scenario", "normal_card_replacement",
                          "--ear", "alttext", "--timeout", "5", "--output", str(tmp_path), *flags],
                         cwd=Path(__file__).parents[3], capture_output=True, text=True, timeout=90)
    assert verdict in run.stdout, run.stdout + run.stderr
    assert said in run.stdout + run.stderr, run.stdout + run.stderr


def test_the_caller_ends_every_call_with_a_hangup_and_session_end(peer, recorded):
    # However the caller's side ends it (its brain hangs up, as on a goal met or a turn limit; its brain
    # breaks; strict mode refuses the bot; the call times out), the bot is told: a hangup activity, then
    # session.end, each once, last.
    hung_up, broke, refused, timed_out = at_once(
        (peer, (STOLEN,), {}),
        (peer, (), {"brain": Breaks()}),
        (f"{peer}?unknown=1", (STOLEN,), {"strict_protocol": True}),
        (peer, (STOLEN, ORDER, STOLEN, ORDER), {"timeout": 2.5}))
    assert hung_up.error is None and hung_up.hung_up_by == "caller"
    assert broke.error_category == "simulator_error"
    assert refused.error_category == "protocol_error"
    assert timed_out.error_category == "call_timeout"
    for result in (hung_up, broke, refused, timed_out):
        kinds = received(recorded, result.call_id)
        assert kinds[-2:] == ["activities:hangup", "session.end"], (result.error, kinds)
        assert kinds.count("session.end") == 1 and kinds.count("activities:hangup") == 1


@pytest.mark.parametrize("how, note", [("activity", None), ("end", "session.end from the bot (taken as hangup)")])
def test_a_bot_ending_the_call_while_the_caller_talks_is_answered_with_session_end(peer, recorded, how, note):
    agent, result = call(f"{peer}?hangup_talking={how}", STOLEN, ORDER)
    assert result.error is None and result.hung_up_by == "bot" and result.end_reason == "agent hung up"
    kinds = received(recorded, result.call_id)
    after = kinds[kinds.index("peer.hangup") + 1:]
    # The caller stopped talking at once (its utterance is ~75 chunks; the bot hung up 0.3 s in) and
    # answered with session.end alone: the bot knows it hung up.
    assert after.count("userStream.chunk") <= 5, after
    assert after[-1] == "session.end" and "activities:hangup" not in kinds
    assert result.turn_records[0].caller_speech_end - result.turn_records[0].caller_speech_start < 0.6
    assert notes_of(result) == ({note: 1} if note else {})


def test_a_bot_closing_the_socket_without_hanging_up_ends_the_call_bridge_closed(peer):
    _, result = call(f"{peer}?close_after=1", STOLEN, ORDER)
    assert result.error_category == "bridge_closed" and result.hung_up_by is None
    assert notes_of(result) == {CLOSED_WITHOUT_HANGUP: 1}


def test_bots_that_leave_out_what_is_optional_are_carried_and_named_once(peer):
    wordless, mute, unacked, own_vad = at_once(
        (f"{peer}?greet_alt=", (STOLEN,), {}),
        (f"{peer}?noalt=1&nospeech=1", (STOLEN,), {}),
        (f"{peer}?no_started=1", (STOLEN, ORDER), {}),
        (f"{peer}?own_vad=1", (STOLEN, ORDER), {}))
    for result in (wordless, mute, unacked, own_vad):
        assert result.error is None and result.hung_up_by == "caller", result.error
        assert result.greeting_latency_ms is not None
        assert all(turn.response_latency_ms is not None for turn in result.turn_records)
    assert wordless.greeting_text == "" and notes_of(wordless) == {GREETING_WITHOUT_WORDS: 1}
    # Neither altText nor the bot's speech events: one note each for the whole call (its two prompts).
    unheard = f"{NO_ALT_TEXT} (not heard: this caller hears by altText)"
    assert notes_of(mute) == {unheard: 2, GREETING_WITHOUT_WORDS: 1, NO_SPEECH_EVENTS: 1}
    assert sum(line.count(NO_ALT_TEXT) for line in note_lines([mute, wordless])) == 1
    # Unacknowledged userStream.start: the first waits 2 s, the second goes at once; both noted.
    assert notes_of(unacked) == {STREAM_NOT_ACKED: 2} and notes_of(own_vad) == {STREAM_NOT_ACKED: 2}
    second = unacked.turn_records[1]
    assert second.caller_speech_start - unacked.turn_records[0].caller_speech_end < 2.0


@pytest.mark.whisper
def test_a_caller_that_can_hear_for_itself_hears_prompts_without_alttext_by_its_own_ear(peer):
    _, result = call(f"{peer}?noalt=1", STOLEN, ear="auto")
    assert result.error is None and "whisper" in result.ear
    assert notes_of(result)[f"{NO_ALT_TEXT} (heard by the caller's own ear)"] == 2


def test_strict_refuses_a_bot_that_never_acknowledges_the_callers_stream(peer):
    _, result = call(f"{peer}?no_started=1", STOLEN, strict_protocol=True)
    assert result.error_category == "protocol_error" and STREAM_NOT_ACKED in result.error.message


def test_the_bridge_check_names_each_bots_behaviour(peer):
    queries = {"wordless": "greet_alt=", "mute": "noalt=1&nospeech=1", "unacked": "no_started=1",
               "own_vad": "own_vad=1", "closes": "close_after=0", "hangs_up": "hangup_talking=activity"}
    probes = {name: gevent.spawn(BridgeProbe(f"{peer}?{query}", formats=("raw/lpcm16",), greeting_wait_s=5.0).run)
              for name, query in queries.items()}
    gevent.joinall(list(probes.values()), raise_error=True)
    lines = {name: [check.line() for check in greenlet.value.checks] for name, greenlet in probes.items()}

    def said(name: str, check: str, text: str) -> bool:
        return any(line.split()[1] == check and text in line for line in lines[name])

    assert said("wordless", "greeting", "altText without words"), lines["wordless"]
    assert said("mute", "greeting", "no altText") and said("mute", "caller", "no userStream.speech.* events")
    assert said("unacked", "protocol", STREAM_NOT_ACKED) and said("unacked", "caller", "answered")
    assert said("own_vad", "protocol", STREAM_NOT_ACKED) and said("own_vad", "caller", "answered")
    assert said("unacked", "strict", "would fail")
    assert said("closes", "test", "bridge_closed") and said("closes", "protocol", CLOSED_WITHOUT_HANGUP)
    assert said("closes", "strict", "would pass")  # the call ends bridge_closed, strict or not
    assert said("hangs_up", "test", "the agent hung up"), lines["hangs_up"]
