"""A bot-side peer that keeps to the AudioCodes bot protocol only as loosely as real bots do, one way at a time.

Run as a subprocess (`python tests/callers/transport/interop_peer.py --port 0 [--record FILE]`); it prints
`listening PORT`. With --record, every message it receives is appended to FILE as a JSON line
`{"cid", "type", "names"}` (`names`: the activities' names), plus `{"cid", "type": "peer.hangup"}` when it
hangs up and `{"cid", "type": "peer.closed"}` once it has read the connection to its end: what a test needs
to see how the caller ended the call. Every behaviour is a query parameter of the
URL the caller dials, so one peer serves every test:

  accept_delay_s=S   answer session.initiate S seconds late (a late accept; a cold first call)
  greet_early=1      stream the greeting as soon as session.initiate arrives, before session.accepted
  bare=1             no conversationId (nor participant) in any message
  stream_id=JSON     the playStream streamId, as this JSON value (7, "a-b", {"n":1}, 1.5, ...)
  unknown=1          an unknown message type before the greeting
  extra=1            extra fields in every message
  binary=json        every message as a binary frame; binary=audio: raw PCM binary frames besides the chunks
  nostop=1           prompts never get playStream.stop
  reply_nostart=1    the reply's chunks come without playStream.start (after a silence), on the greeting's id
  chunk_ms=MS        audio per chunk (default 20)
  speed=X            audio pace: 1 real time (default), 0.5 half real time, 0 the whole prompt in one burst
  reply_alt=TEXT     the reply's altText (default "Reply.")
  echo=A|B|...       an echo bot: each reply is the caller's own audio played back, its altText the next of
                     A, B, ... (what the bot's recogniser made of the caller's words)
  greet_alt=TEXT     the greeting's altText (empty: a greeting without words)
  noalt=1            no altText on any prompt
  nospeech=1         no userStream.speech.* events (by default: started on the first chunk, stopped and
                     committed on userStream.stop)
  no_started=1       userStream.start is never answered with userStream.started
  own_vad=1          userStream.start and .stop are ignored (no started, no stopped): the bot answers once
                     no caller audio has come for 0.5 s
  close_after=N      close the socket (a close frame, no hangup) after the greeting (0) or the N-th reply
  hangup_talking=K   0.3 s into the caller's first utterance, end the call: K=activity a hangup activity,
                     K=end a session.end of the bot's own; the socket closes 2 s later if the caller has not
                     ended the session

The greeting is a 1.2 s tone with altText "Hello."; each caller utterance (userStream.start, then .stop) is
acknowledged and answered with a 0.4 s tone "Reply.". session.end closes the socket; connection.validate is
answered.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from callers.wire import protocol  # noqa: E402

RATE = 16000
GREETING_S = 1.2
REPLY_S = 0.4


def tone(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


RECORD: Path | None = None  # --record


def record(cid: str, kind: str, names: list | None = None) -> None:
    if RECORD is not None:
        with RECORD.open("a") as out:
            out.write(json.dumps({"cid": cid, "type": kind, "names": names or []}) + "\n")


class Bot:
    def __init__(self, ws, query: dict) -> None:
        self.ws = ws
        self.q = query
        self.cid = "?"
        self.stream_id = json.loads(query["stream_id"]) if "stream_id" in query else "s1"
        self.chunk_ms = int(query.get("chunk_ms", 20))
        self.speed = float(query.get("speed", 1))
        self.accepted = asyncio.Event()
        self.heard = bytearray()  # the caller's audio of the utterance under way (an echo bot plays it back)
        self.echoes = query["echo"].split("|") if "echo" in query else None
        self.replies = 0
        self.speaking = False  # a caller utterance is under way (for speech.started, own_vad and hangups)
        self.utterances = 0
        self.endpoint: asyncio.Task | None = None  # own_vad: the answer due once the caller's audio stops
        self.ended = asyncio.Event()  # the caller sent session.end

    def flag(self, name: str) -> bool:
        return self.q.get(name) == "1"

    async def send(self, message: dict) -> None:
        if self.flag("bare"):
            message.pop("conversationId", None)
        else:
            message["conversationId"] = self.cid
        if self.flag("extra"):
            message["botTrace"] = {"id": 1}
        text = protocol.encode(message)
        try:
            await self.ws.send(text.encode() if self.q.get("binary") == "json" else text)
        except ConnectionClosed:
            pass  # the caller has gone; what it sent before going is still read and recorded

    async def prompt(self, seconds: float, text: str, start: bool = True, pcm: bytes = b"") -> None:
        if start:
            message = {"type": protocol.PLAY_STREAM_START, "streamId": self.stream_id, "mediaFormat": "raw/lpcm16",
                       "altText": text}
            if self.flag("noalt"):
                del message["altText"]
            await self.send(message)
        pcm = pcm or tone(seconds)
        step = RATE * 2 * self.chunk_ms // 1000
        began = time.monotonic()
        for index, at in enumerate(range(0, len(pcm), step)):
            if self.speed > 0:
                delay = began + index * self.chunk_ms / 1000 / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            chunk = pcm[at:at + step]
            message = protocol.play_stream_chunk(self.cid, "x", chunk)
            message["streamId"] = self.stream_id
            await self.send(message)
            if self.q.get("binary") == "audio":
                try:
                    await self.ws.send(chunk)
                except ConnectionClosed:
                    return
        if not self.flag("nostop"):
            await self.send({"type": protocol.PLAY_STREAM_STOP, "streamId": self.stream_id})
        if "close_after" in self.q and self.replies == int(self.q["close_after"]):
            await self.ws.close()

    async def accept(self) -> None:
        await asyncio.sleep(float(self.q.get("accept_delay_s", 0)))
        await self.send({"type": protocol.SESSION_ACCEPTED, "mediaFormat": "raw/lpcm16"})
        self.accepted.set()

    async def greet(self) -> None:
        if self.flag("unknown"):
            await self.send({"type": "bot.thinking", "level": 3})
        await self.prompt(GREETING_S, self.q.get("greet_alt", "Hello."))

    async def answer(self) -> None:
        """The reply to the caller's utterance just ended."""
        self.replies += 1
        if self.echoes is not None:
            text = self.echoes.pop(0) if self.echoes else ""
            await self.prompt(0, text, pcm=bytes(self.heard))
        else:
            await self.prompt(REPLY_S, self.q.get("reply_alt", "Reply."), start=not self.flag("reply_nostart"))

    async def answer_after_quiet(self) -> None:
        await asyncio.sleep(0.5)
        self.speaking = False
        await self.answer()

    async def hang_up_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        record(self.cid, "peer.hangup")
        if self.q["hangup_talking"] == "end":
            await self.send({"type": protocol.SESSION_END, "reasonCode": "bot-ended", "reason": "Bot hung up"})
        else:
            await self.send(protocol.bot_activity(self.cid, protocol.ACTIVITY_HANGUP))
        try:
            await asyncio.wait_for(self.ended.wait(), 2.0)
        except asyncio.TimeoutError:
            await self.ws.close()

    async def run(self) -> None:
        tasks = []
        async for raw in self.ws:
            message = protocol.parse_message(raw)
            self.cid = message.data.get("conversationId", self.cid)
            kind = message.type
            record(self.cid, kind, [activity.name for activity in message.activities()]
                   if kind == protocol.ACTIVITIES else None)
            if self.flag("own_vad") and kind in (protocol.USER_STREAM_START, protocol.USER_STREAM_STOP):
                continue
            if kind == protocol.CONNECTION_VALIDATE:
                await self.ws.send(protocol.encode(protocol.connection_validated()))
            elif kind == protocol.SESSION_INITIATE:
                tasks.append(asyncio.create_task(self.accept()))
                if self.flag("greet_early"):
                    tasks.append(asyncio.create_task(self.greet()))
            elif (kind == protocol.ACTIVITIES and not self.flag("greet_early")
                  and protocol.ACTIVITY_START in [activity.name for activity in message.activities()]):
                await self.accepted.wait()
                tasks.append(asyncio.create_task(self.greet()))
            elif kind == protocol.USER_STREAM_START:
                self.heard.clear()
                if not self.flag("no_started"):
                    await self.send({"type": protocol.USER_STREAM_STARTED})
            elif kind == protocol.USER_STREAM_CHUNK:
                if not self.speaking:
                    self.speaking = True
                    self.heard.clear()
                    self.utterances += 1
                    if not self.flag("nospeech"):
                        await self.send({"type": protocol.SPEECH_STARTED})
                    if "hangup_talking" in self.q and self.utterances == 1:
                        tasks.append(asyncio.create_task(self.hang_up_in(0.3)))
                self.heard += base64.b64decode(message.data.get("audioChunk", ""))
                if self.flag("own_vad"):
                    if self.endpoint is not None:
                        self.endpoint.cancel()
                    self.endpoint = asyncio.create_task(self.answer_after_quiet())
                    tasks.append(self.endpoint)
            elif kind == protocol.USER_STREAM_STOP:
                self.speaking = False
                await self.send({"type": protocol.USER_STREAM_STOPPED})
                if not self.flag("nospeech"):
                    await self.send({"type": protocol.SPEECH_STOPPED})
                    await self.send({"type": protocol.SPEECH_COMMITTED})
                if self.flag("reply_nostart"):
                    await asyncio.sleep(2.5)  # longer than the greeting's playout and the caller's silence rule
                tasks.append(asyncio.create_task(self.answer()))
            elif kind == protocol.SESSION_END:
                self.ended.set()
                break
        for task in tasks:
            task.cancel()
        await self.ws.close()


async def handler(ws) -> None:
    query = {k: v[0] for k, v in parse_qs(urlsplit(ws.request.path).query, keep_blank_values=True).items()}
    bot = Bot(ws, query)
    try:
        await bot.run()
    finally:
        record(bot.cid, "peer.closed")


async def main(port: int, record_to: str | None) -> None:
    global RECORD
    RECORD = Path(record_to) if record_to else None
    async with serve(handler, "127.0.0.1", port, max_size=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, arguments.record))
