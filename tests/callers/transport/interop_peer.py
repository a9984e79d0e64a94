"""A bot-side peer that keeps to the AudioCodes bot protocol only as loosely as real bots do, one way at a time.

Run as a subprocess (`python tests/callers/transport/interop_peer.py --port 0`); it prints `listening PORT`. Every
behaviour is a query parameter of the URL the caller dials, so one peer serves every test:

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

The greeting is a 1.2 s tone with altText "Hello."; each caller utterance (userStream.start, then .stop) is
acknowledged and answered with a 0.4 s tone "Reply.". session.end closes the socket.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from callers.wire import protocol  # noqa: E402

RATE = 16000
GREETING_S = 1.2
REPLY_S = 0.4


def tone(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


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
        await self.ws.send(text.encode() if self.q.get("binary") == "json" else text)

    async def prompt(self, seconds: float, text: str, start: bool = True, pcm: bytes = b"") -> None:
        if start:
            await self.send({"type": protocol.PLAY_STREAM_START, "streamId": self.stream_id,
                             "mediaFormat": "raw/lpcm16", "altText": text})
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
                await self.ws.send(chunk)
        if not self.flag("nostop"):
            await self.send({"type": protocol.PLAY_STREAM_STOP, "streamId": self.stream_id})

    async def accept(self) -> None:
        await asyncio.sleep(float(self.q.get("accept_delay_s", 0)))
        await self.send({"type": protocol.SESSION_ACCEPTED, "mediaFormat": "raw/lpcm16"})
        self.accepted.set()

    async def greet(self) -> None:
        if self.flag("unknown"):
            await self.send({"type": "bot.thinking", "level": 3})
        await self.prompt(GREETING_S, "Hello.")

    async def run(self) -> None:
        tasks = []
        async for raw in self.ws:
            message = protocol.parse_message(raw)
            self.cid = message.data.get("conversationId", self.cid)
            kind = message.type
            if kind == protocol.SESSION_INITIATE:
                tasks.append(asyncio.create_task(self.accept()))
                if self.flag("greet_early"):
                    tasks.append(asyncio.create_task(self.greet()))
            elif kind == protocol.ACTIVITIES and not self.flag("greet_early"):
                await self.accepted.wait()
                tasks.append(asyncio.create_task(self.greet()))
            elif kind == protocol.USER_STREAM_START:
                self.heard.clear()
                await self.send({"type": protocol.USER_STREAM_STARTED})
            elif kind == protocol.USER_STREAM_CHUNK:
                self.heard += base64.b64decode(message.data.get("audioChunk", ""))
            elif kind == protocol.USER_STREAM_STOP:
                await self.send({"type": protocol.USER_STREAM_STOPPED})
                if self.flag("reply_nostart"):
                    await asyncio.sleep(2.5)  # longer than the greeting's playout and the caller's silence rule
                if self.echoes is not None:
                    text = self.echoes.pop(0) if self.echoes else ""
                    tasks.append(asyncio.create_task(self.prompt(0, text, pcm=bytes(self.heard))))
                else:
                    tasks.append(asyncio.create_task(self.prompt(REPLY_S, self.q.get("reply_alt", "Reply."),
                                                                 start=not self.flag("reply_nostart"))))
            elif kind == protocol.SESSION_END:
                break
        for task in tasks:
            task.cancel()
        await self.ws.close()


async def handler(ws) -> None:
    query = {k: v[0] for k, v in parse_qs(urlsplit(ws.request.path).query).items()}
    await Bot(ws, query).run()


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
