"""Many concurrent calls against a running bridge, from one asyncio process; prints a JSON summary.

Its own process on purpose: the test session is gevent-patched, and an asyncio client must not share a
loop or a GIL with the bridge it measures. Each call: initiate, greeting, one paced caller utterance, the
reply, session.end. Usage: python -m tests.bridge.load_client ws://127.0.0.1:PORT/ws/telephony --calls 100
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np
from websockets.asyncio.client import connect

from callers.media import audio
from callers.wire import protocol

FRAME_MS = audio.DEFAULT_FRAME_MS
UTTERANCE_S = 0.5
TONE_HZ = 440.0
RAMP_S = 1.0  # calls start spread over this long, like a load-test ramp, not all in one instant


def _tone_frames(fmt: audio.MediaFormat) -> list[bytes]:
    t = np.arange(int(UTTERANCE_S * audio.PCM_RATE)) / audio.PCM_RATE
    pcm = (3000 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
    return audio.frames_for(pcm, audio.PCM_RATE, fmt, FRAME_MS)


async def _hear_prompt(ws) -> tuple[list[float], float]:
    """Chunk arrival times of the next playStream, and the stop's arrival."""
    arrivals: list[float] = []
    async for raw in ws:
        message = protocol.parse_message(raw)
        now = time.monotonic()
        if message.type == protocol.PLAY_STREAM_CHUNK:
            arrivals.append(now)
        elif message.type == protocol.PLAY_STREAM_STOP:
            return arrivals, now
    raise ConnectionError("closed inside a prompt")


def _lateness_ms(arrivals: list[float]) -> list[float]:
    ideal = arrivals[0] + np.arange(len(arrivals)) * FRAME_MS / 1000
    return list((np.asarray(arrivals) - ideal) * 1000)


async def one_call(url: str, index: int, total: int) -> dict:
    await asyncio.sleep(index * RAMP_S / total)
    cid = f"load-{index}"
    async with connect(url, compression=None, max_size=protocol.MAX_MESSAGE_BYTES) as ws:
        await ws.send(protocol.encode(protocol.session_initiate(cid, "load", f"+1555{index:07d}")))
        accepted = protocol.parse_message(await ws.recv())
        fmt = audio.parse_media_format(accepted.get_str("mediaFormat"))
        await ws.send(protocol.encode(protocol.start_activity(cid, "+1", "+2", "load",
                                                              extra_parameters={"scenarioType": "loan_application"})))
        greeting, _ = await _hear_prompt(ws)
        await ws.send(protocol.encode(protocol.user_stream_start(cid)))
        start = time.monotonic()
        for i, frame in enumerate(_tone_frames(fmt)):
            delay = start + i * FRAME_MS / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(protocol.encode(protocol.user_stream_chunk(cid, frame)))
        await ws.send(protocol.encode(protocol.user_stream_stop(cid)))
        stopped = time.monotonic()
        reply, _ = await _hear_prompt(ws)
        await ws.send(protocol.encode(protocol.session_end(cid)))
    return {"lateness_ms": _lateness_ms(greeting) + _lateness_ms(reply),
            "response_ms": (reply[0] - stopped) * 1000}


async def run(url: str, calls: int) -> dict:
    started = time.monotonic()
    results = await asyncio.gather(*(one_call(url, i, calls) for i in range(calls)), return_exceptions=True)
    done = [r for r in results if isinstance(r, dict)]
    errors = [repr(r) for r in results if not isinstance(r, dict)]
    lateness = np.abs(np.concatenate([r["lateness_ms"] for r in done])) if done else np.zeros(1)
    response = np.asarray([r["response_ms"] for r in done]) if done else np.zeros(1)
    return {"calls": calls, "ok": len(done), "errors": errors[:5], "wall_s": time.monotonic() - started,
            "chunks": int(lateness.size), "lateness_p50_ms": float(np.percentile(lateness, 50)),
            "lateness_p99_ms": float(np.percentile(lateness, 99)), "lateness_max_ms": float(lateness.max()),
            "response_p50_ms": float(np.percentile(response, 50)),
            "response_p99_ms": float(np.percentile(response, 99))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.calls))))
