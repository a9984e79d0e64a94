"""A small bot-side peer for client tests: each URL path is a scripted behaviour a real bridge might show.

Run as a subprocess (`python tests/callers/transport/scripted_peer.py --port 0`); it prints `listening PORT`.
Query parameters: `format` (what session.accepted names; default the first offered), `play` (the
playStream media format; default the call's), `token` (required bearer token).
Paths: /normal, /reject, /garbage, /nostop, /hangup, /drop, /silent, /nobarge, /flood, /startonly, /timedstop.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import serve

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from callers.media import audio  # noqa: E402
from callers.wire import protocol  # noqa: E402

TONE_S = 1.0
FRAME_MS = 20


def tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


async def play(ws, cid: str, fmt: audio.MediaFormat, text: str, seconds: float = TONE_S, stop: bool = True,
               paced: bool = True, stream_id: str = "s1") -> None:
    await ws.send(protocol.encode(protocol.play_stream_start(cid, stream_id, fmt.token, text)))
    frames = audio.frames_for(tone(seconds), 16000, fmt, FRAME_MS)
    start = time.monotonic()
    for index, frame in enumerate(frames):
        if paced:
            delay = start + index * FRAME_MS / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await ws.send(protocol.encode(protocol.play_stream_chunk(cid, stream_id, frame)))
    if stop:
        await ws.send(protocol.encode(protocol.play_stream_stop(cid, stream_id)))


async def handler(ws) -> None:
    url = urlsplit(ws.request.path)
    mode = url.path.strip("/") or "normal"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    cid = "?"
    fmt = audio.parse_media_format("raw/lpcm16")
    chunks: list[float] = []
    playing: asyncio.Task | None = None
    async for raw in ws:
        message = protocol.parse_message(raw)
        cid = message.data.get("conversationId", cid)
        if message.type == protocol.SESSION_INITIATE:
            if mode == "reject":
                await ws.send(protocol.encode(protocol.session_error(cid, "no capacity")))
                continue
            offered = message.data["supportedMediaFormats"]
            fmt = audio.parse_media_format(query.get("format", offered[0]))
            await ws.send(protocol.encode(protocol.session_accepted(cid, fmt.token)))
        elif message.type == protocol.ACTIVITIES and message.activities()[0].name == protocol.ACTIVITY_START:
            if mode == "silent":
                continue
            if mode == "startonly":  # one message and nothing after it: its arrival is all a read can see
                await ws.send(protocol.encode(protocol.play_stream_start(cid, "s1", fmt.token, "Hello.")))
                continue
            if mode == "timedstop":  # the stop's send time, told in a recognition well after it
                await play(ws, cid, fmt, "Hello.", stop=False)
                before = time.monotonic()
                await ws.send(protocol.encode(protocol.play_stream_stop(cid, "s1")))
                after = time.monotonic()
                await asyncio.sleep(0.5)
                await ws.send(protocol.encode(protocol.speech_recognition(cid, json.dumps([before, after]))))
                continue
            if mode == "ping":  # the greeting names whether the caller answered a WebSocket ping in time
                answered = await ws.ping(b"are you there")
                try:
                    await asyncio.wait_for(answered, 5)
                    heard = "pong"
                except asyncio.TimeoutError:
                    heard = "no pong"
                await play(ws, cid, fmt, heard)
                continue
            if mode == "garbage":
                for junk in ("not json", "[1,2]", '{"type": 5}', '{"type":"playStream.chunk","audioChunk":"@@"}',
                             '{"type":"mystery.event","x":1}', '{"type":"activities","activities":"x"}'):
                    await ws.send(junk)
            play_fmt = audio.parse_media_format(query.get("play", fmt.token))
            if mode == "flood":
                await play(ws, cid, play_fmt, "flood", seconds=30.0, paced=False)
                continue
            await play(ws, cid, play_fmt, "Hello, how can I help you?", stop=mode != "nostop")
            if mode == "hangup":
                await ws.send(protocol.encode(protocol.bot_activity(cid, protocol.ACTIVITY_HANGUP)))
            if mode == "drop":
                await ws.close()
                return
        elif message.type == protocol.USER_STREAM_START:
            chunks = []
            await ws.send(protocol.encode(protocol.simple(protocol.USER_STREAM_STARTED, cid)))
            if mode == "nobarge":
                play_fmt = audio.parse_media_format(query.get("play", fmt.token))
                playing = asyncio.create_task(play(ws, cid, play_fmt, "I keep talking.", seconds=3.0))
        elif message.type == protocol.USER_STREAM_CHUNK:
            message.audio()
            chunks.append(time.monotonic())
        elif message.type == protocol.USER_STREAM_STOP:
            await ws.send(protocol.encode(protocol.simple(protocol.USER_STREAM_STOPPED, cid)))
            gaps = np.diff(chunks) * 1000 if len(chunks) > 1 else np.zeros(1)
            report = json.dumps({"chunks": len(chunks), "span_ms": (chunks[-1] - chunks[0]) * 1000 if chunks else 0,
                                 "max_gap_ms": float(gaps.max())})
            await ws.send(protocol.encode(protocol.speech_recognition(cid, report)))
            if playing is not None:
                await playing
            await play(ws, cid, fmt, "Reply.", seconds=0.5, stream_id="s2")
        elif message.type == protocol.SESSION_END:
            await ws.close()
            return


def process_request(connection, request):
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
    if "token" in query and request.headers.get("Authorization") != f"Bearer {query['token']}":
        return connection.respond(HTTPStatus.UNAUTHORIZED, "bad token\n")
    return None


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=process_request, max_size=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
