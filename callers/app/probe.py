"""`caller_cli.py --check URL`: what works on a bridge, one line per check, before anyone load-tests it.

The checks run in the order a call needs them, and stop at the first one nothing else can get past (an
unreachable host, a refused upgrade): reachability and auth, the protocol's `connection.validate` probe,
which media formats a session accepts (one short session per format, each offering only that one), then
one real short call: greeting latency, barge-in (the caller talks over the greeting and sees whether the
prompt stops, judged exactly as calls judge it), and whether a caller turn gets an answer. Last, each
deviation from the protocol the sessions were carried through, and whether --strict-protocol would pass.

Optional features a bridge may lack (connection.validate, barge-in) are reported as such, not as failures:
a bridge "works" when callers can reach it, start a session, hear a greeting and get answers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Optional, Sequence

import gevent

from callers.call.agent import BARGE_IN_STOP_WAIT_S, wait_for_stop
from callers.call.barge_ins import stop_verdict
from callers.errors import CallFailure, ErrorCategory
from callers.media import phrasebook, speech
from callers.transport.telephony import (AgentStream, AgentVoiceStarted, AudioCodesClient, BotActivity,
                                         BotSpeechEvent, ConnectionClosed, SessionRejected)
from callers.wire import protocol

PROBED_FORMATS = ("raw/lpcm16", "raw/lpcm16_8", "raw/lpcm16_24", "raw/mulaw")
VALIDATE_WAIT_S = 3.0
GREETING_WAIT_S = 15.0
ANSWER_WAIT_S = 10.0
# How much of the greeting plays before the check talks over it: long enough that the agent is surely
# mid-prompt, short enough that most greetings are still going.
BARGE_IN_AFTER_S = 0.4
CHECK_CALLER_NAME = "Bridge Check"
CHECK_PHRASE = "Sorry to interrupt, I have a quick question about my account."


class Status(str, Enum):
    OK = "ok"
    NO = "no"  # an optional feature the bridge does not offer
    SKIPPED = "skip"
    FAILED = "FAIL"


@dataclass
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"  {self.status.value:<4}  {self.name:<12} {self.detail}"


@dataclass
class ProbeReport:
    url: str
    checks: list

    @property
    def unreachable(self) -> bool:
        return any(c.status is Status.FAILED and c.name in ("reachable", "auth") for c in self.checks)

    @property
    def works(self) -> bool:
        return all(c.status is not Status.FAILED for c in self.checks)

    def verdict(self) -> str:
        if self.works:
            return "Bridge works."
        failed = next(c for c in self.checks if c.status is Status.FAILED)
        return f"Bridge does not work: {failed.name}: {failed.detail}"


class BridgeProbe:
    """Runs the checks against one URL; `run()` never raises for anything the bridge does. Each check is
    handed to `on_check` as soon as it is known, since a whole probe takes several seconds."""

    def __init__(self, url: str, token: Optional[str] = None, sslopt: Optional[dict] = None,
                 formats: Sequence[str] = PROBED_FORMATS, greeting_wait_s: float = GREETING_WAIT_S,
                 on_check: Callable[[Check], None] = lambda check: None) -> None:
        self.url = url
        self.on_check = on_check
        self.token = token
        self.sslopt = sslopt
        self.formats = tuple(formats)
        self.greeting_wait_s = greeting_wait_s
        self.checks: list[Check] = []
        self._clients: list[AudioCodesClient] = []

    def run(self) -> ProbeReport:
        client = self._client()
        if self._connection(client) and self._formats():
            self._test_call()
            self._protocol()
        return ProbeReport(client.shown_url, self.checks)

    # ---- checks ------------------------------------------------------------------------------------------

    def _connection(self, client: AudioCodesClient) -> bool:
        """reachable, auth and connection.validate, from one bare connection."""
        began = time.monotonic()
        try:
            answer = client.validate(VALIDATE_WAIT_S)
        except CallFailure as failure:
            if failure.category is ErrorCategory.HANDSHAKE_REJECTED:
                self._add("reachable", Status.OK, "the host answers the WebSocket upgrade")
                hint = "" if self.token else " (give --token or set CALLER_BRIDGE_TOKEN)"
                self._add("auth", Status.FAILED, _after_url(failure.message) + hint)
            else:
                self._add("reachable", Status.FAILED, _after_url(failure.message))
            return False
        upgrade_ms = (client.socket_open_at - began) * 1000.0
        self._add("reachable", Status.OK, f"WebSocket upgrade in {upgrade_ms:.0f} ms")
        self._add("auth", Status.OK, "bearer token accepted" if self.token else "no token needed")
        if answer is True:
            self._add("validate", Status.OK, "connection.validate answered success=true")
        elif answer is False:
            self._add("validate", Status.NO, "connection.validate answered success=false")
        else:
            self._add("validate", Status.NO, f"no connection.validated within {VALIDATE_WAIT_S:g} s "
                                              "(optional; calls may still work)")
        return True

    def _formats(self) -> bool:
        accepted, refused = [], []
        for token in self.formats:
            client = self._client(media_formats=(token,))
            try:
                client.connect()
                accepted.append(token)
            except CallFailure as failure:
                refused.append(f"{token} ({_after_url(failure.message)})")
            finally:
                client.hang_up()
        detail = f"accepted {', '.join(accepted) or 'none'}"
        if refused:
            detail += f"; refused {'; '.join(refused)}"
        self._add("formats", Status.OK if accepted else Status.FAILED, detail)
        return bool(accepted)

    def _protocol(self) -> None:
        """Each deviation from the bot protocol any of the check's sessions saw, one line each (calls carry
        them), and whether the bot would pass --strict-protocol, where the first one ends the call."""
        seen: dict[str, int] = {}
        refused: set[str] = set()
        for client in self._clients:
            for note in client.protocol_notes:
                seen[note["what"]] = seen.get(note["what"], 0) + note["count"]
                if note["what"] not in client.session.tolerated:
                    refused.add(note["what"])
        for what, count in seen.items():
            self._add("protocol", Status.NO, f"{what} ({count} time{'s' if count != 1 else ''}; carried)")
        if not seen:
            self._add("protocol", Status.OK, "kept to the bot protocol")
        if not refused:
            self._add("strict", Status.OK, "would pass --strict-protocol")
        else:
            kinds = f"{len(refused)} kind{'s' if len(refused) != 1 else ''} of deviation"
            self._add("strict", Status.NO, f"would fail --strict-protocol ({kinds}; calls end as protocol_error)")

    def _test_call(self) -> None:
        client = self._client()
        try:
            client.connect()
            client.start_conversation(CHECK_CALLER_NAME)
            greeting = self._greeting(client)
            if greeting is not None:
                self._barge_in_and_answer(client, greeting)
        except CallFailure as failure:
            self._add("test call", Status.FAILED, f"{failure.category.value}: {_after_url(failure.message)}")
        finally:
            client.hang_up()

    def _greeting(self, client: AudioCodesClient) -> Optional[AgentStream]:
        event = self._wait_for(client, self.greeting_wait_s, lambda e: isinstance(e, AgentVoiceStarted))
        if event is None:
            self._add("greeting", Status.FAILED, f"no agent audio within {self.greeting_wait_s:g} s of the start "
                                                 "activity")
            return None
        stream = event.stream
        words = ("no altText" if stream.alt_text is None else "altText sent" if stream.alt_text.strip()
                 else "altText without words")
        extras = [f"plays {stream.media_format.token}", words]
        self._add("greeting", Status.OK, f"first agent audio {(event.at - client.accepted_at) * 1000.0:.0f} ms after "
                                         f"session.accepted ({', '.join(extras)})")
        return stream

    def _barge_in_and_answer(self, client: AudioCodesClient, greeting: AgentStream) -> None:
        gevent.sleep(max(0.0, greeting.first_voiced_at + BARGE_IN_AFTER_S - time.monotonic()))
        talking_over = greeting.open
        frames = phrasebook.encoded_frames(CHECK_PHRASE, speech.DEFAULT_STYLE, client.media_format.token,
                                           client.frame_ms)
        timing = client.speak(frames)
        if greeting.stopped_at is not None and greeting.stopped_at < timing.started_at:
            talking_over = False  # it ended on its own just before the first interrupting frame went out
        if not talking_over:
            self._add("barge-in", Status.SKIPPED, f"the greeting ended within {BARGE_IN_AFTER_S:g} s, nothing to "
                                                  "interrupt")
        else:
            stopped_at = wait_for_stop(greeting, timing.started_at)
            verdict = stop_verdict(greeting, timing.started_at, stopped_at, None)
            if stopped_at is None:
                self._add("barge-in", Status.NO, "the agent kept talking over the caller")
            elif verdict.stopped is None:
                self._add("barge-in", Status.SKIPPED, f"the greeting ended within {BARGE_IN_STOP_WAIT_S:g} s of the "
                                                      f"cut-in, which says nothing ({verdict.undetermined})")
            else:
                how = "playStream.stop" if greeting.stopped_at == stopped_at else "its audio ceased"
                took_ms = max(0.0, stopped_at - timing.started_at) * 1000
                self._add("barge-in", Status.OK, f"the agent stopped {took_ms:.1f} ms after the caller cut in ({how})")
        heard: list[str] = []

        def answered(event: object) -> bool:
            if isinstance(event, BotSpeechEvent) and event.kind == protocol.SPEECH_RECOGNITION and event.text:
                heard.append(event.text)
            return isinstance(event, AgentVoiceStarted) and event.stream is not greeting

        event = self._wait_for(client, ANSWER_WAIT_S, answered)
        bot_heard = f'; the bot heard "{heard[-1]}"' if heard else ""
        if client.session.speech_events == 0:
            bot_heard += "; no userStream.speech.* events"
        if event is None:
            self._add("caller turn", Status.FAILED, f"no answer within {ANSWER_WAIT_S:g} s of the caller's "
                                                    f"utterance{bot_heard}")
        else:
            self._add("caller turn", Status.OK, f"answered {max(0.0, event.at - timing.ended_at) * 1000.0:.0f} ms "
                                                f"after the caller stopped{bot_heard}")

    # ---- helpers -----------------------------------------------------------------------------------------

    def _wait_for(self, client: AudioCodesClient, wait_s: float, wanted) -> Optional[object]:
        """The first event `wanted` accepts within `wait_s`; a closed or refused session is a CallFailure."""
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            event = client.next_event(left)
            if event is None:
                return None
            if wanted(event):
                return event
            if isinstance(event, BotActivity) and event.name.lower() == protocol.ACTIVITY_HANGUP.lower():
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, "the agent hung up (hangup activity or session.end) "
                                  "in the middle of the check")
            if isinstance(event, ConnectionClosed):
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, event.reason)
            if isinstance(event, SessionRejected):
                raise CallFailure(ErrorCategory.BRIDGE_CLOSED, f"session.error: {event.reason}")
        return None

    def _client(self, **options) -> AudioCodesClient:
        client = AudioCodesClient(self.url, token=self.token, sslopt=self.sslopt, bot_name="caller-agent-check",
                                  **options)
        self._clients.append(client)  # for the deviations each session saw
        return client

    def _add(self, name: str, status: Status, detail: str) -> None:
        check = Check(name, status, detail)
        self.checks.append(check)
        self.on_check(check)


def _after_url(message: str) -> str:
    """A client failure message without its leading "URL: ", which the check's header already shows."""
    head, separator, rest = message.partition(": ")
    return rest if separator and "://" in head else message
