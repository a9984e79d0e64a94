"""Whole CallerAgent calls against the interop peer (tests/callers/transport/interop_peer.py): the protocol's
deviations reach the call's result and the console, strict mode ends the call, an echoing bot meets no goal,
and a bot sending big chunks is not talked over."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import pytest

from callers import CallerAgent, load_scenarios
from callers.app import cli
from callers.app.probe import BridgeProbe, Status
from callers.brains.base import Brain, HeardTurn, Reply
from callers.call.echo import ECHO_NOTE
from callers.results import CallResult, ProtocolNote, note_lines
from callers.scenario.goals import GoalTracker
from tests.callers.transport.peers import running_peer

PEER = Path(__file__).parents[1] / "transport" / "interop_peer.py"
STOLEN = "My card was stolen."
ORDER = "Can you order me a replacement card?"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def peer():
    with running_peer(PEER) as url:
        yield url + "/ws"


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


def call(url: str, *lines: str, **options) -> tuple[CallerAgent, CallResult]:
    scenario = load_scenarios().custom_entry("normal", "card_replacement", None).scenario
    agent = CallerAgent(url, "normal", scenario, caller_name="Interop", brain=Lines(*lines), ear="alttext", seed=5,
                        **options)
    return agent, agent.run(40)


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
