"""Drive the bridge the way the suite does: a real `python -m bridge` process on a free loopback port, and a
minimal AudioCodes-side client written here (the real caller client is tested on its own)."""
from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from callers.media import audio
from callers.wire import protocol
from tests.reference_bridge import BridgeProcess, launch_bridge

RECV_TIMEOUT_S = 15.0
# Tests that do not measure speech pace use a fast voice so prompts, and tests, are short.
FAST_VOICE = ("--voice-rate", "450")
TONE_HZ = 440.0
TONE_DBFS = -20.0


@pytest.fixture
def start_bridge(tmp_path: Path) -> Iterator:
    """Factory: start_bridge("--latency-ms", "300", ear="none") -> BridgeProcess, stopped at teardown."""
    started: list[BridgeProcess] = []

    def start(*args: str, ear: str = "none", env: Optional[dict] = None) -> BridgeProcess:
        bridge = launch_bridge(*args, ear=ear, env=env, stderr_path=tmp_path / f"bridge-{len(started)}.stderr")
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        if bridge.proc.poll() is None:
            bridge.proc.kill()
            bridge.proc.wait()


def tone(seconds: float, rate: int = audio.PCM_RATE, dbfs: float = TONE_DBFS) -> np.ndarray:
    """Voiced test audio that needs no synthesiser."""
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (amplitude * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)


@dataclass
class PlayedPrompt:
    start: protocol.Message
    started_at: float
    fmt: audio.MediaFormat
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    stop_at: Optional[float] = None

    @property
    def alt_text(self) -> Optional[str]:
        return self.start.get_str("altText")

    @property
    def audio_bytes(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)


class TestCaller:
    """The AudioCodes side, just enough of it: a reader thread stamps every frame on arrival."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, url: str, token: Optional[str] = None, conversation_id: Optional[str] = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self.ws: ClientConnection = connect(url, additional_headers=headers, open_timeout=10,
                                            max_size=protocol.MAX_MESSAGE_BYTES, legacy=True)
        self.cid = conversation_id or f"test-{uuid.uuid4().hex[:8]}"
        self.fmt = audio.parse_media_format(protocol.DEFAULT_MEDIA_FORMAT)
        self.seen: list[tuple[float, protocol.Message]] = []
        self._inbox: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self._inbox.put((time.monotonic(), protocol.parse_message(raw)))
        except ConnectionClosed:
            pass
        self._inbox.put(None)

    def send(self, message: dict) -> float:
        self.ws.send(protocol.encode(message))
        return time.monotonic()

    def next(self, timeout: float = RECV_TIMEOUT_S) -> Optional[tuple[float, protocol.Message]]:
        """The next frame, or None once the bridge has closed the connection."""
        item = self._inbox.get(timeout=timeout)
        if item is not None:
            self.seen.append(item)
        return item

    def expect(self, kind: str, timeout: float = RECV_TIMEOUT_S) -> tuple[float, protocol.Message]:
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.01, deadline - time.monotonic()))
            assert item is not None, f"connection closed while waiting for {kind}"
            if item[1].type == kind:
                return item

    def closed(self, timeout: float = RECV_TIMEOUT_S) -> bool:
        """Drain until the bridge closes the connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.next(max(0.01, deadline - time.monotonic())) is None:
                return True
        return False

    def initiate(self, formats: tuple[str, ...] = (protocol.DEFAULT_MEDIA_FORMAT,)) -> protocol.Message:
        self.send(protocol.session_initiate(self.cid, "test-bot", "+15551230000", formats))
        _, message = self.expect_any((protocol.SESSION_ACCEPTED, protocol.SESSION_ERROR))
        if message.type == protocol.SESSION_ACCEPTED:
            self.fmt = audio.parse_media_format(message.get_str("mediaFormat"))
        return message

    def expect_any(self, kinds: tuple[str, ...], timeout: float = RECV_TIMEOUT_S) -> tuple[float, protocol.Message]:
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.01, deadline - time.monotonic()))
            assert item is not None, f"connection closed while waiting for {kinds}"
            if item[1].type in kinds:
                return item

    def start(self, scenario_type: Optional[str] = None) -> None:
        extra = {"scenarioType": scenario_type} if scenario_type else None
        self.send(protocol.start_activity(self.cid, "+15551230000", "+18005550199", "Test Caller",
                                          extra_parameters=extra))

    def hear_prompt(self, timeout: float = RECV_TIMEOUT_S) -> PlayedPrompt:
        """One whole playStream, each chunk stamped on arrival."""
        started_at, start = self.expect(protocol.PLAY_STREAM_START, timeout)
        prompt = PlayedPrompt(start=start, started_at=started_at,
                              fmt=audio.parse_media_format(start.get_str("mediaFormat")))
        while True:
            item = self.next(timeout)
            assert item is not None, "connection closed inside a playStream"
            at, message = item
            if message.type == protocol.PLAY_STREAM_CHUNK:
                assert message.stream_id() == start.stream_id()
                prompt.chunks.append((at, message.audio()))
            elif message.type == protocol.PLAY_STREAM_STOP:
                assert message.stream_id() == start.stream_id()
                prompt.stop_at = at
                return prompt

    def say(self, pcm: np.ndarray, rate: int = audio.PCM_RATE, frame_ms: int = audio.DEFAULT_FRAME_MS,
            stop: bool = True) -> float:
        """Stream an utterance in real time (absolute deadlines); returns when userStream.stop left."""
        self.send(protocol.user_stream_start(self.cid))
        self.expect(protocol.USER_STREAM_STARTED)
        self.stream(pcm, rate, frame_ms)
        return self.send(protocol.user_stream_stop(self.cid)) if stop else time.monotonic()

    def stream(self, pcm: np.ndarray, rate: int = audio.PCM_RATE, frame_ms: int = audio.DEFAULT_FRAME_MS) -> float:
        """Paced chunks only; returns the send time of the first one."""
        first = None
        start = time.monotonic()
        for index, frame in enumerate(audio.frames_for(pcm, rate, self.fmt, frame_ms)):
            delay = start + index * frame_ms / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = self.send(protocol.user_stream_chunk(self.cid, frame))
            first = first if first is not None else sent
        return first if first is not None else start

    def end(self) -> None:
        try:
            self.send(protocol.session_end(self.cid))
        except ConnectionClosed:
            pass

    def close(self) -> None:
        self.ws.close()
        self._reader.join(5)


@pytest.fixture
def callers_to_close() -> Iterator[list[TestCaller]]:
    opened: list[TestCaller] = []
    yield opened
    for caller in opened:
        caller.close()


def read_truth(path: Path, timeout: float = 10.0, count: int = 1) -> list[dict]:
    """The truth log's lines once `count` calls are in it (it is written at call end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            if len(lines) >= count:
                return lines
        time.sleep(0.05)
    raise AssertionError(f"truth log {path} has fewer than {count} calls after {timeout} s")


def assert_talks_over_the_caller(caller: "TestCaller", reference: "PlayedPrompt") -> None:
    """Cut in 0.3 s into a prompt: an agent without barge-in still plays every chunk of it."""
    caller.expect(protocol.PLAY_STREAM_START)
    time.sleep(0.3)
    caller.say(tone(0.3))
    caller.expect(protocol.SPEECH_STARTED)
    _, stop = caller.expect(protocol.PLAY_STREAM_STOP)
    chunks = [m for _, m in caller.seen if m.type == protocol.PLAY_STREAM_CHUNK and m.stream_id() == stop.stream_id()]
    assert len(chunks) == len(reference.chunks)
