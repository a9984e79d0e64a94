"""A local stand-in for the OpenAI Realtime API (GA interface) and a Chat Completions judge, for tests.

A real WebSocket server on 127.0.0.1 that speaks the GA events a RealtimeBrain relies on: it runs its own
energy VAD over the appended input audio (speech_started / speech_stopped / committed), transcribes each
committed segment with the offline Whisper ear, answers with the next line of a script spoken by the
offline espeak voice (output_audio deltas faster than real time, transcript, usage in response.done), and
ends the call with an `end_call` function call after the last line.

What a connection does is chosen by its `model` query parameter, so one server process serves every test:
`fail-401` refuses the upgrade; `fail-429` always answers 429 with Retry-After; `fail-429-once` does so only
for the first attempt of that model name; `fail-error` sends a server `error` event instead of its second
answer; `fail-drop` drops the TCP connection instead of its second answer; anything else plays the script.

Run: python -m tests.fake_realtime --script FILE  (prints one line: the ws and http base URLs); tests use
`launch_fake_realtime`.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from callers.media import audio, speech

RATE = 24000
FRAME_SAMPLES = RATE // 50  # 20 ms VAD frames
DELTA_MS = 100
# Deltas go out this many times faster than real time, as the real service streams ahead of playback.
STREAM_SPEEDUP = 4.0
RETRY_AFTER_S = "0.4"
PREFIX_PADDING_MS = 300
DEFAULT_SILENCE_MS = 500
# Fixed usage per response, so a test can check the sum exactly.
RESPONSE_USAGE = {
    "total_tokens": 540, "input_tokens": 400, "output_tokens": 140,
    "input_token_details": {"text_tokens": 300, "audio_tokens": 100, "image_tokens": 0, "cached_tokens": 128,
                            "cached_tokens_details": {"text_tokens": 96, "audio_tokens": 32, "image_tokens": 0}},
    "output_token_details": {"text_tokens": 40, "audio_tokens": 100},
}
TRANSCRIPTION_USAGE = {"type": "tokens", "input_tokens": 20, "output_tokens": 10, "total_tokens": 30,
                       "input_token_details": {"text_tokens": 0, "audio_tokens": 20}}
JUDGE_USAGE = {"prompt_tokens": 200, "completion_tokens": 50, "total_tokens": 250}
REPO_ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"^fake realtime listening on (ws://\S+) judge (http://\S+)")
START_TIMEOUT_S = 60.0


@dataclass
class FakeRealtime:
    proc: subprocess.Popen
    ws_url: str
    judge_url: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def launch_fake_realtime(script: list[str], ear: str = "stt") -> FakeRealtime:
    """Start the fake as a subprocess on free loopback ports and wait for its listening line; `ear` none
    makes every transcript empty (no Whisper CPU in the fake)."""
    script_file = Path(tempfile.mkstemp(prefix="fake-realtime-", suffix=".json")[1])
    script_file.write_text(json.dumps(script), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_realtime", "--script", str(script_file), "--ear", ear],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    match = LISTENING.match(lines[0]) if lines else None
    if match is None:
        proc.kill()
        raise AssertionError(f"fake realtime did not start (first line {lines[:1]!r})")
    return FakeRealtime(proc, match.group(1), match.group(2))


class FakeService:
    """State shared by every connection: the script, the recognizer, the per-model attempt counters."""

    def __init__(self, script: list[str], ear: str = "stt") -> None:
        self.script = script
        self.ear = speech.get_ear(ear)
        self.voice = speech.get_voice()
        self.attempts: dict[str, int] = {}
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):06d}"

    def process_request(self, connection: ServerConnection, request: Request) -> Optional[Response]:
        model = parse_qs(urlsplit(request.path).query).get("model", [""])[0]
        attempt = self.attempts.get(model, 0)
        self.attempts[model] = attempt + 1
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip() or model.startswith("fail-401"):
            return _json_response(connection, HTTPStatus.UNAUTHORIZED, "invalid_api_key",
                                  "Incorrect API key provided.")
        if model == "fail-429" or (model == "fail-429-once" and attempt == 0):
            response = _json_response(connection, HTTPStatus.TOO_MANY_REQUESTS, "rate_limit_exceeded",
                                      "Rate limit reached for requests.")
            response.headers["Retry-After"] = RETRY_AFTER_S
            return response
        return None

    async def handle(self, connection: ServerConnection) -> None:
        model = parse_qs(urlsplit(connection.request.path).query).get("model", [""])[0]
        await FakeSession(self, connection, model).run()


def _json_response(connection: ServerConnection, status: HTTPStatus, code: str, message: str) -> Response:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}})
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


class FakeSession:
    """One Realtime connection: session config, the input buffer and its VAD, and scripted answers."""

    def __init__(self, service: FakeService, connection: ServerConnection, model: str) -> None:
        self.service = service
        self.ws = connection
        self.model = model
        self.instructions = ""
        self.silence_ms = DEFAULT_SILENCE_MS
        self.create_response = True
        self.line_index = 0
        self.answers = 0
        self.buffer_ms = 0
        self.speaking = False
        self.quiet_ms = 0
        self.segment: list[np.ndarray] = []
        self.history: list[np.ndarray] = []
        self.item_id: Optional[str] = None
        self.previous_item: Optional[str] = None
        self.responding = False
        self.tasks: set[asyncio.Task] = set()

    async def send(self, event: dict) -> None:
        event.setdefault("event_id", self.service.new_id("event"))
        await self.ws.send(json.dumps(event))

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": self._session()})
        try:
            async for message in self.ws:
                await self.on_event(json.loads(message))
        except ConnectionClosed:
            pass
        finally:
            for task in self.tasks:
                task.cancel()

    def _session(self) -> dict:
        return {"type": "realtime", "object": "realtime.session", "id": "sess_fake", "model": self.model,
                "output_modalities": ["audio"], "instructions": self.instructions,
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": RATE},
                                    "turn_detection": {"type": "server_vad", "silence_duration_ms": self.silence_ms,
                                                       "create_response": self.create_response}},
                          "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "marin"}}}

    async def on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "session.update":
            session = event.get("session", {})
            self.instructions = session.get("instructions", self.instructions)
            detection = session.get("audio", {}).get("input", {}).get("turn_detection") or {}
            self.silence_ms = detection.get("silence_duration_ms", self.silence_ms)
            self.create_response = detection.get("create_response", True)
            await self.send({"type": "session.updated", "session": self._session()})
        elif kind == "input_audio_buffer.append":
            samples = np.frombuffer(base64.b64decode(event["audio"]), dtype="<i2").astype(np.int16)
            await self._vad(samples)
        elif kind == "input_audio_buffer.commit":
            await self._commit()
        elif kind == "response.create":
            self._spawn(self._answer())
        elif kind == "conversation.item.delete":
            await self.send({"type": "conversation.item.deleted", "item_id": event.get("item_id")})
        elif kind == "response.cancel":
            pass  # answers are generated at once; nothing is ever in progress to cancel
        else:
            await self.send({"type": "error", "error": {"type": "invalid_request_error", "code": "unknown_event",
                                                        "message": f"Unknown event type {kind!r}"}})

    async def _vad(self, samples: np.ndarray) -> None:
        for start in range(0, len(samples), FRAME_SAMPLES):
            frame = samples[start:start + FRAME_SAMPLES]
            self.buffer_ms += len(frame) * 1000 // RATE
            self.history = (self.history + [frame])[-PREFIX_PADDING_MS // 20:]
            voiced = audio.is_voiced(frame)
            if not self.speaking:
                if voiced:
                    self.speaking, self.quiet_ms = True, 0
                    self.item_id = self.service.new_id("item")
                    self.segment = list(self.history)
                    await self.send({"type": "input_audio_buffer.speech_started", "item_id": self.item_id,
                                     "audio_start_ms": max(0, self.buffer_ms - PREFIX_PADDING_MS)})
                continue
            self.segment.append(frame)
            self.quiet_ms = 0 if voiced else self.quiet_ms + len(frame) * 1000 // RATE
            if self.quiet_ms >= self.silence_ms:
                await self.send({"type": "input_audio_buffer.speech_stopped", "item_id": self.item_id,
                                 "audio_end_ms": self.buffer_ms})
                await self._commit()

    async def _commit(self) -> None:
        item_id = self.item_id or self.service.new_id("item")
        pcm = np.concatenate(self.segment) if self.segment else np.zeros(0, dtype=np.int16)
        self.speaking, self.segment, self.item_id = False, [], None
        await self.send({"type": "input_audio_buffer.committed", "item_id": item_id,
                         "previous_item_id": self.previous_item})
        self.previous_item = item_id
        self._spawn(self._transcribe(item_id, pcm))
        if self.create_response:
            self._spawn(self._answer())

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _transcribe(self, item_id: str, pcm: np.ndarray) -> None:
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self.service.executor, self.service.ear.transcribe, pcm, RATE)
        await self.send({"type": "conversation.item.input_audio_transcription.completed", "item_id": item_id,
                         "content_index": 0, "transcript": text, "usage": TRANSCRIPTION_USAGE})

    async def _answer(self) -> None:
        if self.responding or self.line_index >= len(self.service.script):
            return
        self.responding = True
        self.answers += 1
        try:
            if self.answers == 2 and self.model == "fail-error":
                await self.send({"type": "error", "error": {
                    "type": "server_error", "code": "server_error", "event_id": None,
                    "message": "The server had an error while processing your request."}})
                return
            if self.answers == 2 and self.model == "fail-drop":
                self.ws.transport.abort()
                return
            line = self.service.script[self.line_index]
            self.line_index += 1
            await self._speak(line, last=self.line_index == len(self.service.script))
        finally:
            self.responding = False

    async def _speak(self, line: str, last: bool) -> None:
        new_id = self.service.new_id
        response_id, item_id = new_id("resp"), new_id("item")
        await self.send({"type": "response.created", "response": {"id": response_id, "status": "in_progress",
                                                                   "object": "realtime.response", "output": []}})
        await self.send({"type": "rate_limits.updated", "rate_limits": [
            {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 0.06},
            {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}]})
        where = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        pcm = audio.resample(self.service.voice.render(line), speech.VOICE_RATE, RATE)
        step = RATE * DELTA_MS // 1000
        for start in range(0, len(pcm), step):
            chunk = pcm[start:start + step].astype("<i2").tobytes()
            await self.send({"type": "response.output_audio.delta", **where,
                             "delta": base64.b64encode(chunk).decode("ascii")})
            await asyncio.sleep(DELTA_MS / 1000.0 / STREAM_SPEEDUP)
        await self.send({"type": "response.output_audio_transcript.delta", **where, "delta": line})
        await self.send({"type": "response.output_audio.done", **where})
        await self.send({"type": "response.output_audio_transcript.done", **where, "transcript": line})
        output = [{"id": item_id, "type": "message", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_audio", "transcript": line}]}]
        if last:
            call = {"id": new_id("item"), "type": "function_call", "status": "completed", "name": "end_call",
                    "call_id": new_id("call"), "arguments": json.dumps({"reason": "goal met"})}
            await self.send({"type": "response.function_call_arguments.done", "response_id": response_id,
                             "item_id": call["id"], "output_index": 1, "call_id": call["call_id"],
                             "name": "end_call", "arguments": call["arguments"]})
            output.append(call)
        await self.send({"type": "response.done", "response": {
            "id": response_id, "object": "realtime.response", "status": "completed", "output": output,
            "usage": RESPONSE_USAGE}})


class JudgeHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: every criterion in the request is judged met, quoting the last agent line."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self._reply(HTTPStatus.UNAUTHORIZED, {"error": {"message": "no key", "code": "invalid_api_key"}})
        task = json.loads(body["messages"][-1]["content"])
        agent_lines = [line for line in task["transcript"] if line.startswith("AGENT")] or ["AGENT: (silence)"]
        verdict = {"criteria": [{"criterion": c, "met": True, "evidence": agent_lines[-1]}
                                for c in task["criteria"]]}
        self._reply(HTTPStatus.OK, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": json.dumps(verdict)}}],
            "usage": JUDGE_USAGE})

    def _reply(self, status: HTTPStatus, payload: dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


async def main(script: list[str], ear: str) -> None:
    service = FakeService(script, ear)
    judge = ThreadingHTTPServer(("127.0.0.1", 0), JudgeHandler)
    threading.Thread(target=judge.serve_forever, daemon=True).start()
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(service.handle, "127.0.0.1", 0, process_request=service.process_request,
                     max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"fake realtime listening on ws://127.0.0.1:{port}/v1 judge http://127.0.0.1:"
              f"{judge.server_address[1]}/v1", flush=True)
        await stop
    judge.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", required=True, help="JSON list of the caller's lines, in order")
    parser.add_argument("--ear", choices=("stt", "none"), default="stt", help="none: empty transcripts, no Whisper")
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as source:
        lines = json.load(source)
    sys.exit(asyncio.run(main(lines, args.ear)))
