"""Fault injection: which calls the reference bridge spoils on purpose, and the fixed shape of each fault.

A load test is only trusted if it reports a broken agent as broken, with the right category. The bridge can
misbehave in the ways real bridges do (`python -m bridge --fault MODE[:RATE]`, repeatable), each fault
aimed at one failure path of the caller:

| mode | what the bridge does | the caller should record |
|---|---|---|
| refuse | HTTP 401 at the upgrade | handshake_rejected |
| reject | session.error instead of session.accepted | handshake_rejected |
| drop | TCP connection aborted after the caller's first utterance; no close frame, no session.end | bridge_closed |
| garbage | a normal call with malformed frames interleaved (see GARBAGE) | a normal, successful call |
| silence | accepts and acknowledges, never speaks | no_answer |
| slow | greets on time, then answers every turn SLOW_REPLY_DELAY_S late, past any caller's patience | no_answer |
| stall | the greeting stops half-way, no playStream.stop, the agent wedged (acks still flow) | no_answer |
| early-hangup | greets, then sends the hangup activity | no error, goal not met, hung up by the bot |
| no-barge-in | keeps talking over the caller | barge-in turns with agent_stopped false |
| flood | plays every prompt unpaced, the greeting padded to FLOOD_AUDIO_S of audio | a normal call in bounded memory |

Why those verdicts: `slow` and `stall` are, to a caller, an agent silent past its patience, which is what
no_answer means (metrics.md); a slow answer that comes after the caller hung up was heard by no one.
`stall` stops the chunks rather than streaming silence: a wedged text-to-speech pipeline leaves the stream
open and sends nothing, which is the case where a caller waiting for playStream.stop would hang. A caller
takes half a second without chunks as the end of the prompt (as a phone line would), answers, and then
waits its patience for a reply that never comes.

Which calls are affected is a pure function of the seed and the call, so a run can be replayed and a test
can predict it: `refuse` is decided per connection (its index on this bridge) because it happens before
the conversation id is known; every other mode per conversation id, with one draw per call split across
the modes in the order given, so each rate is the expected share of calls and a call suffers at most one
fault.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Optional, Sequence, Union

# The most patient caller waits 3 + 1.5 * 10 = 18 s (callers.scenario.personality.max_wait_s); a reply later than
# that is heard by nobody.
SLOW_REPLY_DELAY_S = 20.0
# Share of the greeting's frames sent before a stalled agent goes quiet: enough voiced audio to count as a
# greeting, so the stall shows on the turn after it.
STALL_AFTER_SHARE = 0.5
# Audio in a flooded greeting: 20 minutes (~38 MB of 16 kHz PCM) delivered in seconds. A caller that kept
# all of it would show it in its memory; the flood is finite so the call, and the test, still end.
FLOOD_AUDIO_S = 1200.0
# A flooding bridge still lets its other calls run: it yields to the event loop every this many frames.
FLOOD_YIELD_FRAMES = 50
# One malformed frame after every this many chunks of a prompt (every 100 ms at 20 ms frames): a prompt of
# two seconds already carries every kind in GARBAGE.
GARBAGE_EVERY_FRAMES = 5
REJECT_REASON = "call rejected (fault injection)"
REFUSE_REASON = "refused at the upgrade with HTTP 401 (fault injection)"
DROP_REASON = "connection aborted after the caller's first utterance (fault injection)"
DEFAULT_RATE = 1.0
# Per-call rates may add up to 1 with this much float slack (0.1 + 0.2 + 0.7 is 1.0000000000000002).
RATE_SUM_SLACK = 1e-9


class Fault(str, Enum):
    REFUSE = "refuse"
    REJECT = "reject"
    DROP = "drop"
    GARBAGE = "garbage"
    SILENCE = "silence"
    SLOW = "slow"
    STALL = "stall"
    EARLY_HANGUP = "early-hangup"
    NO_BARGE_IN = "no-barge-in"
    FLOOD = "flood"


@dataclass(frozen=True)
class FaultSpec:
    fault: Fault
    rate: float = DEFAULT_RATE

    def __str__(self) -> str:
        return f"{self.fault.value}:{self.rate:g}"


def parse_fault(text: str) -> FaultSpec:
    """`MODE[:RATE]` as typed on the command line; the message of the ValueError is shown to the user."""
    name, _, rate_text = text.strip().partition(":")
    try:
        fault = Fault(name.strip().lower())
    except ValueError:
        raise ValueError(f"unknown fault {name!r} (known: {', '.join(f.value for f in Fault)})") from None
    try:
        rate = float(rate_text) if rate_text else DEFAULT_RATE
    except ValueError:
        raise ValueError(f"fault rate must be a number from 0 to 1, got {rate_text!r}") from None
    spec = FaultSpec(fault, rate)
    check_faults([spec])
    return spec


def check_faults(specs: Sequence[FaultSpec]) -> None:
    """Reject plans that cannot mean what they say: a mode given twice, a rate outside 0..1, or per-call
    shares adding up to more than every call."""
    seen: set[Fault] = set()
    for spec in specs:
        if not 0.0 <= spec.rate <= 1.0:
            raise ValueError(f"fault rate must be from 0 to 1, got {spec.rate:g} for {spec.fault.value}")
        if spec.fault in seen:
            raise ValueError(f"fault {spec.fault.value} is given more than once")
        seen.add(spec.fault)
    per_call = sum(spec.rate for spec in specs if spec.fault is not Fault.REFUSE)
    if per_call > 1.0 + RATE_SUM_SLACK:
        raise ValueError(f"the per-call fault rates add up to {per_call:g}; a call suffers at most one fault, "
                         "so they must add up to 1 or less")


def _draw(seed: Optional[int], kind: str, key: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, kind, key): stable across processes and Python versions,
    unlike hash()."""
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one bridge process. Without a seed the draws use the seed `None`, which is just as
    reproducible: faults are a test fixture, never a source of real randomness."""

    specs: tuple[FaultSpec, ...] = ()
    seed: Optional[int] = None

    def __post_init__(self) -> None:
        check_faults(self.specs)

    def refuses(self, connection_index: int) -> bool:
        """Whether the upgrade of this bridge's `connection_index`-th connection (from 0) is refused."""
        rate = next((spec.rate for spec in self.specs if spec.fault is Fault.REFUSE), 0.0)
        return rate > 0 and _draw(self.seed, "connection", str(connection_index)) < rate

    def for_call(self, conversation_id: str) -> Optional[Fault]:
        """The fault this call suffers, if any."""
        point = _draw(self.seed, "call", conversation_id)
        edge = 0.0
        for spec in self.specs:
            if spec.fault is Fault.REFUSE:
                continue
            edge += spec.rate
            if point < edge:
                return spec.fault
        return None

    def describe(self) -> str:
        return ",".join(str(spec) for spec in self.specs) or "none"


def garbage_frame(index: int, conversation_id: str, stream_id: str) -> Union[str, bytes]:
    """The `index`-th malformed frame (cycling through GARBAGE). Each is broken in its framing, its JSON or
    the type of a field, never a well-formed message with a surprising meaning, so a lenient caller can
    ignore every one of them and still complete the call."""
    frame = GARBAGE[index % len(GARBAGE)]
    if isinstance(frame, bytes):
        return frame
    return frame.replace("$CID", conversation_id).replace("$SID", stream_id)


def _json(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


# $CID and $SID are replaced by the call's conversation id and the current (or last) playStream id.
GARBAGE: tuple[Union[str, bytes], ...] = (
    "this is not JSON {",
    b"\x00\xffbinary frame\xfe",
    "[1,2,3]",
    _json({"conversationId": "$CID", "note": "no type"}),
    _json({"type": 42, "conversationId": "$CID"}),
    _json({"type": "fault.garbage", "conversationId": "$CID"}),
    _json({"type": "playStream.chunk", "conversationId": "$CID", "streamId": "$SID",
           "audioChunk": "%%% not base64 %%%"}),
    _json({"type": "playStream.chunk", "conversationId": "$CID", "streamId": "$SID", "audioChunk": 12345}),
    _json({"type": "playStream.start", "conversationId": "$CID", "streamId": "$SID", "mediaFormat": 16000}),
    _json({"type": "playStream.stop", "conversationId": "$CID", "streamId": {"id": "$SID"}}),
    _json({"type": "activities", "conversationId": "$CID", "activities": "hangup"}),
    _json({"type": "activities", "conversationId": "$CID", "activities": [{"type": "event", "name": 7}]}),
    _json({"type": "activities", "conversationId": "$CID",
           "activities": [{"type": "event", "name": "faultGarbage"}]}),
    _json({"type": "userStream.speech.recognition", "conversationId": "$CID", "alternatives": "nope"}),
    _json({"type": "session.accepted", "conversationId": "$CID", "mediaFormat": ["raw/lpcm16"]}),
)
