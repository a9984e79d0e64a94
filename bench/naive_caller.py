"""The baseline a capacity figure is compared with: the caller anyone would write first.

websocket-client with its defaults (a fresh library frame and mask per send, UTF-8 validation on receive),
`json.dumps` and base64 of every 20 ms frame, one greenlet per caller sleeping before each frame, and a
receive greenlet that parses every agent chunk and runs the energy VAD on it. It paces against absolute
deadlines (sleeping `deadline - now`, not a plain `sleep(0.02)`): a plain sleep drifts by its overshoot on
every frame at any load, which would make the baseline's capacity zero and the comparison meaningless.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Callable, Sequence

import gevent
import numpy as np
import websocket
from gevent.event import Event

from callers.media import audio
from callers.wire import protocol

ACK_TIMEOUT_S = 5.0


class NaiveCaller:
    """One call: connect, then utterances back to back with `gap_s` between them until `stop` is set."""

    def __init__(self, url: str, media_format: str) -> None:
        self.url = url
        self.fmt = audio.parse_media_format(media_format)
        self.cid = uuid.uuid4().hex
        self.agent_frames = 0
        self.agent_voiced = 0
        self._ack = Event()
        self._ws: websocket.WebSocket

    def _send(self, message: dict) -> None:
        self._ws.send(json.dumps(message))

    def run(self, pcm_frames: Sequence[bytes], stop: Event, gap_s: float,
            on_utterance: Callable[[float, np.ndarray], None]) -> None:
        self._ws = websocket.create_connection(self.url)
        receiver = gevent.spawn(self._receive)
        try:
            self._send({"type": protocol.SESSION_INITIATE, "conversationId": self.cid, "botName": "naive",
                        "caller": "+15550000000", "expectAudioMessages": True,
                        "supportedMediaFormats": [self.fmt.token]})
            while not stop.is_set():
                self._ack.clear()
                self._send({"type": protocol.USER_STREAM_START, "conversationId": self.cid})
                if not self._ack.wait(ACK_TIMEOUT_S):
                    raise TimeoutError("no userStream.started")
                lateness = np.zeros(len(pcm_frames))
                start = time.monotonic()
                for index, frame in enumerate(pcm_frames):
                    if stop.is_set():
                        lateness = lateness[:index]
                        break
                    deadline = start + index * 0.02
                    delay = deadline - time.monotonic()
                    if delay > 0:
                        gevent.sleep(delay)
                    lateness[index] = max(0.0, time.monotonic() - deadline) * 1000.0
                    self._send({"type": protocol.USER_STREAM_CHUNK, "conversationId": self.cid,
                                "audioChunk": base64.b64encode(frame).decode("ascii")})
                self._send({"type": protocol.USER_STREAM_STOP, "conversationId": self.cid})
                on_utterance(start, lateness)
                stop.wait(gap_s)
            self._send({"type": protocol.SESSION_END, "conversationId": self.cid, "reasonCode": "client-disconnected",
                        "reason": "done"})
        finally:
            self._ws.close()
            receiver.kill(block=False)

    def _receive(self) -> None:
        while True:
            try:
                text = self._ws.recv()
            except (OSError, websocket.WebSocketException):
                return
            if not text:
                return
            message = json.loads(text)
            kind = message.get("type")
            if kind == protocol.PLAY_STREAM_CHUNK:
                samples = audio.decode_audio(base64.b64decode(message["audioChunk"]), self.fmt)
                self.agent_frames += 1
                self.agent_voiced += audio.is_voiced(samples)
            elif kind == protocol.USER_STREAM_STARTED:
                self._ack.set()
