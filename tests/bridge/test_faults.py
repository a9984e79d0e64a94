"""Fault injection in the reference bridge: the plan's arithmetic, and each fault as a client sees it on the
wire (the caller's verdicts on them are tests/test_fault_matrix.py)."""
from __future__ import annotations

import queue
import time
import uuid
from typing import Optional, Union

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bridge import dialogue, faults
from bridge.__main__ import parse_settings
from bridge.faults import Fault, FaultPlan, FaultSpec, parse_fault
from callers.transport.telephony import AgentStreamStarted, AgentStreamStopped, AudioCodesClient
from callers.wire import protocol
from tests.bridge.conftest import assert_talks_over_the_caller, FAST_VOICE, TestCaller, read_truth, tone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]  # real-time calls against a bridge or peer

# Synthetic conversation ids for the share checks: enough that a share is within SHARE_TOLERANCE of its
# rate with overwhelming probability (binomial sd at p = 0.3 is 0.003), and fixed, so never flaky.
SAMPLE_IDS = [uuid.UUID(int=n * 7919 + 1).hex for n in range(20_000)]
SHARE_TOLERANCE = 0.015
# Nothing of a stalled or silent agent may arrive in this long (several frames and sentence gaps).
QUIET_S = 1.5
# With nothing from the agent for this long, the (fast-voice) greeting is over.
GREETING_DONE_S = 3.0


# ---- the plan ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("drop", FaultSpec(Fault.DROP, 1.0)),
    ("drop:0.3", FaultSpec(Fault.DROP, 0.3)),
    (" Early-Hangup:0 ", FaultSpec(Fault.EARLY_HANGUP, 0.0)),
    ("no-barge-in:1", FaultSpec(Fault.NO_BARGE_IN, 1.0)),
])
def test_parse_fault(text: str, expected: FaultSpec) -> None:
    assert parse_fault(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("explode", "unknown fault 'explode'"), ("drop:lots", "must be a number"), ("drop:1.5", "from 0 to 1"),
    ("drop:-0.1", "from 0 to 1"), ("", "unknown fault"),
])
def test_bad_fault_is_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_fault(text)


def test_bad_fault_flags_are_usage_errors() -> None:
    for argv in (["--fault", "explode"], ["--fault", "drop:2"], ["--fault", "drop", "--fault", "drop:0.5"],
                 ["--fault", "drop:0.6", "--fault", "slow:0.5"]):
        with pytest.raises(SystemExit) as exited:
            parse_settings(argv)
        assert exited.value.code == 2, argv
    settings, _ = parse_settings(["--fault", "drop:0.3", "--fault", "slow:0.7", "--fault", "refuse:1"])
    assert [str(spec) for spec in settings.faults] == ["drop:0.3", "slow:0.7", "refuse:1"]


def test_the_choice_is_a_pure_function_of_seed_and_call() -> None:
    plan = FaultPlan((FaultSpec(Fault.DROP, 0.5),), seed=5)
    first = [plan.for_call(cid) for cid in SAMPLE_IDS[:200]]
    assert first == [FaultPlan((FaultSpec(Fault.DROP, 0.5),), seed=5).for_call(cid) for cid in SAMPLE_IDS[:200]]
    assert first != [FaultPlan((FaultSpec(Fault.DROP, 0.5),), seed=6).for_call(cid) for cid in SAMPLE_IDS[:200]]


def test_rates_are_shares_and_a_call_suffers_one_fault_at_most() -> None:
    specs = (FaultSpec(Fault.DROP, 0.3), FaultSpec(Fault.SLOW, 0.2), FaultSpec(Fault.REFUSE, 0.4))
    plan = FaultPlan(specs, seed=1)
    chosen = [plan.for_call(cid) for cid in SAMPLE_IDS]
    for fault, rate in ((Fault.DROP, 0.3), (Fault.SLOW, 0.2), (None, 0.5), (Fault.REFUSE, 0.0)):
        assert abs(chosen.count(fault) / len(chosen) - rate) < SHARE_TOLERANCE, fault
    refused = sum(plan.refuses(index) for index in range(len(SAMPLE_IDS)))
    assert abs(refused / len(SAMPLE_IDS) - 0.4) < SHARE_TOLERANCE
    everyone = FaultPlan((FaultSpec(Fault.STALL, 1.0), FaultSpec(Fault.REFUSE, 1.0)))
    assert {everyone.for_call(cid) for cid in SAMPLE_IDS[:500]} == {Fault.STALL}
    assert all(everyone.refuses(index) for index in range(500))
    nobody = FaultPlan((FaultSpec(Fault.STALL, 0.0),))
    assert {nobody.for_call(cid) for cid in SAMPLE_IDS[:500]} == {None}


def test_the_listening_line_names_the_faults(start_bridge) -> None:
    assert "faults=none" in start_bridge().listening_line
    assert "faults=drop:0.3,refuse:1" in start_bridge("--fault", "drop:0.3", "--fault", "refuse").listening_line


# ---- each fault on the wire -------------------------------------------------------------------------------

def accepted_call(bridge, opened: list, conversation_id: Optional[str] = None) -> TestCaller:
    caller = TestCaller(bridge.url, conversation_id=conversation_id)
    opened.append(caller)
    assert caller.initiate().type == protocol.SESSION_ACCEPTED
    caller.start()
    return caller


def nothing_arrives(caller: TestCaller, kinds: tuple[str, ...], seconds: float = QUIET_S) -> bool:
    """True when no frame of `kinds` arrives for `seconds` (other frames are read and kept)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = caller.next(left)
        except queue.Empty:
            return True
        if item is None or item[1].type in kinds:
            return False
    return True


def test_refuse_answers_the_upgrade_with_401_for_the_planned_connections(start_bridge, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "refuse:0.5", "--seed", "3", "--truth-log", str(truth), *FAST_VOICE)
    plan = FaultPlan((FaultSpec(Fault.REFUSE, 0.5),), seed=3)
    outcomes = []
    for _ in range(8):
        try:
            with connect(bridge.url, open_timeout=5):
                outcomes.append(False)
        except InvalidStatus as refused:
            assert refused.response.status_code == 401
            outcomes.append(True)
    assert outcomes == [plan.refuses(index) for index in range(8)] and 0 < sum(outcomes) < 8
    records = read_truth(truth, count=sum(outcomes))
    assert [r["connection"] for r in records] == [i for i, refused in enumerate(outcomes) if refused]
    assert all(r["fault"] == "refuse" and r["conversation_id"] is None and "401" in r["error"] for r in records)


def test_refuse_counts_only_connections_that_would_be_served(start_bridge) -> None:
    """Wrong paths and wrong tokens are refused for what they are, and do not use up the faulty share."""
    bridge = start_bridge("--fault", "refuse:0.5", "--seed", "3", "--token", "right")
    plan = FaultPlan((FaultSpec(Fault.REFUSE, 0.5),), seed=3)
    first_served = next(index for index in range(20) if not plan.refuses(index))
    for _ in range(3):
        with pytest.raises(InvalidStatus) as not_found:
            connect(bridge.url + "/elsewhere", open_timeout=5)
        assert not_found.value.response.status_code == 404
        with pytest.raises(InvalidStatus):
            connect(bridge.url, additional_headers={"Authorization": "Bearer wrong"}, open_timeout=5)
    for index in range(first_served + 1):
        headers = {"Authorization": "Bearer right"}
        if index < first_served:
            with pytest.raises(InvalidStatus):
                connect(bridge.url, additional_headers=headers, open_timeout=5)
        else:
            with connect(bridge.url, additional_headers=headers, open_timeout=5):
                pass


def test_reject_sends_session_error_and_closes(start_bridge, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "reject", "--truth-log", str(truth))
    caller = TestCaller(bridge.url)
    try:
        message = caller.initiate()
        assert message.type == protocol.SESSION_ERROR and message.get_str("reason") == faults.REJECT_REASON
        assert caller.closed()
    finally:
        caller.close()
    [call] = read_truth(truth)
    assert call["fault"] == "reject" and call["error"] == faults.REJECT_REASON and call["accepted_at"] is None


def test_drop_aborts_the_connection_after_the_first_utterance(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "drop", "--truth-log", str(truth), *FAST_VOICE)
    caller = accepted_call(bridge, callers_to_close)
    assert caller.hear_prompt().alt_text == dialogue.GREETING
    caller.say(tone(0.3))
    assert caller.closed(timeout=5)
    assert caller.ws.close_code is None or caller.ws.close_code == 1006  # no close frame: the TCP link just ends
    assert protocol.USER_STREAM_STOPPED not in [message.type for _, message in caller.seen]
    [call] = read_truth(truth)
    assert call["fault"] == "drop" and call["hung_up_by"] == "drop" and call["end_reason"] == faults.DROP_REASON


def test_garbage_is_interleaved_with_a_normal_call(start_bridge) -> None:
    bridge = start_bridge("--fault", "garbage", *FAST_VOICE)
    with connect(bridge.url, open_timeout=5) as ws:
        ws.send(protocol.encode(protocol.session_initiate("garbage-1", "test-bot", "+15551230000")))
        frames = [ws.recv(timeout=5) for _ in range(len(faults.GARBAGE) + 1)]
        ws.send(protocol.encode(protocol.start_activity("garbage-1", "+15551230000", "bank", "Test Caller")))
        prompt = [ws.recv(timeout=5)]
        while is_junk(prompt[-1]) or protocol.parse_message(prompt[-1]).type != protocol.PLAY_STREAM_STOP:
            prompt.append(ws.recv(timeout=5))
    assert protocol.parse_message(frames[0]).type == protocol.SESSION_ACCEPTED
    assert all(is_junk(frame) for frame in frames[1:])
    assert any(isinstance(frame, bytes) for frame in frames[1:])
    junk = [frame for frame in prompt if is_junk(frame)]
    chunks = [frame for frame in prompt
              if not is_junk(frame) and protocol.parse_message(frame).type == protocol.PLAY_STREAM_CHUNK]
    assert len(junk) == len(chunks) // faults.GARBAGE_EVERY_FRAMES and len(junk) >= len(faults.GARBAGE)


def is_junk(frame: Union[str, bytes]) -> bool:
    """Whether a strict reader finds the frame malformed, or of a type or activity nobody knows: what a
    lenient caller must ignore."""
    try:
        message = protocol.parse_message(frame)
        if not message.known:
            return True
        if message.type == protocol.ACTIVITIES:
            return any(activity.name not in protocol.KNOWN_ACTIVITY_NAMES for activity in message.activities())
        if message.type == protocol.PLAY_STREAM_CHUNK:
            message.audio()
        elif message.type in (protocol.PLAY_STREAM_START, protocol.SESSION_ACCEPTED):
            message.get_str("mediaFormat")
        elif message.type == protocol.PLAY_STREAM_STOP:
            message.stream_id()
        elif message.type == protocol.SPEECH_RECOGNITION:
            return message.recognized_text() is None
        return False
    except protocol.ProtocolError:
        return True


def test_garbage_does_not_split_or_end_a_prompt_for_the_caller(start_bridge) -> None:
    """Guards the client fix: a malformed playStream.start / .stop mid-prompt used to end the open stream,
    so one prompt reached the caller as several streams (and, with the auto ear, as several transcripts)."""
    clean = start_bridge(*FAST_VOICE)
    spoiled = start_bridge("--fault", "garbage", *FAST_VOICE)
    seen = {}
    for name, bridge in (("clean", clean), ("garbage", spoiled)):
        client = AudioCodesClient(bridge.url)
        try:
            client.connect()
            client.start_conversation("Test Caller")
            streams = []
            while (event := client.next_event(GREETING_DONE_S)) is not None:
                if isinstance(event, AgentStreamStarted):
                    streams.append(("start", event.stream.alt_text))
                elif isinstance(event, AgentStreamStopped):
                    streams.append(("stop", event.stream.audio_ms))
            seen[name] = (streams, client.protocol_warnings)
        finally:
            client.hang_up()
    assert seen["garbage"][0] == seen["clean"][0] and len(seen["clean"][0]) == 2
    assert seen["clean"][1] == 0 and seen["garbage"][1] >= len(faults.GARBAGE)


def test_silence_accepts_and_acknowledges_but_never_speaks(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "silence", "--truth-log", str(truth))
    caller = accepted_call(bridge, callers_to_close)
    assert nothing_arrives(caller, (protocol.PLAY_STREAM_START, protocol.PLAY_STREAM_CHUNK))
    caller.say(tone(0.3))
    caller.expect(protocol.USER_STREAM_STOPPED)
    assert nothing_arrives(caller, (protocol.PLAY_STREAM_START, protocol.PLAY_STREAM_CHUNK))
    caller.end()
    [call] = read_truth(truth)
    assert call["fault"] == "silence" and call["turns"] == [] and call["hung_up_by"] == "caller"


def test_slow_greets_on_time_then_answers_past_any_patience(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "slow", "--truth-log", str(truth), *FAST_VOICE)
    caller = accepted_call(bridge, callers_to_close)
    assert caller.hear_prompt(timeout=2).alt_text == dialogue.GREETING
    caller.say(tone(0.3))
    assert nothing_arrives(caller, (protocol.PLAY_STREAM_START,))
    caller.end()
    [call] = read_truth(truth)
    assert call["fault"] == "slow"
    assert [turn["injected_ms"] for turn in call["turns"]] == [0.0, faults.SLOW_REPLY_DELAY_S * 1000]


def test_stall_stops_the_greeting_half_way_for_good(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "stall", "--truth-log", str(truth), *FAST_VOICE)
    reference = accepted_call(start_bridge(*FAST_VOICE), callers_to_close).hear_prompt()
    caller = accepted_call(bridge, callers_to_close)
    caller.expect(protocol.PLAY_STREAM_START)
    assert nothing_arrives(caller, (protocol.PLAY_STREAM_STOP,), seconds=reference.stop_at - reference.started_at + 1)
    caller.say(tone(0.3))  # a voiced caller over the open stream: a wedged agent does not stop it either
    caller.expect(protocol.USER_STREAM_STOPPED)
    assert nothing_arrives(caller, (protocol.PLAY_STREAM_STOP, protocol.PLAY_STREAM_START,
                                    protocol.PLAY_STREAM_CHUNK))
    chunks = sum(m.type == protocol.PLAY_STREAM_CHUNK for _, m in caller.seen)
    assert chunks == int(len(reference.chunks) * faults.STALL_AFTER_SHARE)
    caller.end()
    [call] = read_truth(truth)
    assert call["fault"] == "stall" and len(call["turns"]) == 1 and call["barge_ins"] == 0


def test_early_hangup_follows_the_greeting(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "early-hangup", "--truth-log", str(truth), *FAST_VOICE)
    caller = accepted_call(bridge, callers_to_close)
    assert caller.hear_prompt().alt_text == dialogue.GREETING
    _, hangup = caller.expect(protocol.ACTIVITIES, timeout=1)
    assert [activity.name for activity in hangup.activities()] == [protocol.ACTIVITY_HANGUP]
    caller.end()
    assert caller.closed()
    [call] = read_truth(truth)
    assert call["fault"] == "early-hangup" and call["hung_up_by"] == "bot" and len(call["turns"]) == 1


def test_no_barge_in_talks_over_the_caller(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "no-barge-in", "--truth-log", str(truth), *FAST_VOICE)
    reference = accepted_call(start_bridge(*FAST_VOICE), callers_to_close).hear_prompt()
    caller = accepted_call(bridge, callers_to_close)
    assert_talks_over_the_caller(caller, reference)
    caller.end()
    [call] = read_truth(truth)
    assert call["fault"] == "no-barge-in" and call["barge_ins"] == 0


def test_flood_sends_a_long_greeting_much_faster_than_real_time(start_bridge, callers_to_close, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "flood", "--truth-log", str(truth), *FAST_VOICE)
    caller = accepted_call(bridge, callers_to_close)
    prompt = caller.hear_prompt(timeout=60)
    audio_s = len(prompt.audio_bytes) / prompt.fmt.bytes_per_ms / 1000
    wall_s = prompt.stop_at - prompt.started_at
    assert audio_s >= faults.FLOOD_AUDIO_S and wall_s < audio_s / 20, (audio_s, wall_s)
    caller.say(tone(0.3))
    reply = caller.hear_prompt()  # later prompts are unpaced too, but not padded
    reply_audio_s = len(reply.audio_bytes) / reply.fmt.bytes_per_ms / 1000
    assert reply_audio_s < 30 and reply.stop_at - reply.started_at < reply_audio_s / 2
    caller.end()
    [call] = read_truth(truth)
    assert call["fault"] == "flood" and call["turns"][0]["agent_audio_ms"] >= faults.FLOOD_AUDIO_S * 1000


def test_per_call_faults_follow_the_plan_and_are_in_the_truth_log(start_bridge, tmp_path) -> None:
    truth = tmp_path / "truth.jsonl"
    bridge = start_bridge("--fault", "reject:0.5", "--seed", "11", "--truth-log", str(truth))
    plan = FaultPlan((FaultSpec(Fault.REJECT, 0.5),), seed=11)
    ids = [f"plan-{n}" for n in range(8)]
    for cid in ids:
        caller = TestCaller(bridge.url, conversation_id=cid)
        try:
            answer = caller.initiate()
            assert (answer.type == protocol.SESSION_ERROR) == (plan.for_call(cid) is Fault.REJECT), cid
            caller.end()
        finally:
            caller.close()
    logged = {call["conversation_id"]: call["fault"] for call in read_truth(truth, count=len(ids))}
    assert logged == {cid: (fault.value if (fault := plan.for_call(cid)) else None) for cid in ids}
    assert 0 < sum(fault is not None for fault in logged.values()) < len(ids)


def test_garbage_frames_name_the_call_and_stream_they_are_sent_in() -> None:
    message = protocol.parse_message(faults.garbage_frame(len(faults.GARBAGE) + 9, "cid-1", "7"))
    assert message.type == protocol.PLAY_STREAM_STOP and message.data["conversationId"] == "cid-1"
    assert message.data["streamId"] == {"id": "7"}
    assert isinstance(faults.garbage_frame(1, "cid-1", "7"), bytes)
