"""A full-duplex stand-in bridge for capacity runs: cheap enough that the callers, not it, are measured.

The reference bridge parses every caller frame with a full WebSocket stack and runs a dialogue per call;
at a thousand callers (50 000 caller frames a second) it would be the bottleneck. This sink speaks just
enough of the bot protocol for a caller's transport to do its full work:

* the HTTP upgrade, then `session.initiate` -> `session.accepted`, `userStream.start` -> `started`,
  `userStream.stop` -> `stopped`, `session.end` / close -> close;
* from acceptance on, agent audio in both directions at once: prompts of PROMPT_FRAMES chunks
  (playStream.start, chunks every 20 ms, playStream.stop), back to back, whatever the caller does;
* caller chunks are recognised by the first bytes of their payload and only counted, never parsed.

With `--dialogue` it plays a turn-taking agent instead, so whole scripted calls complete (the scaling
bench runs Locust against it): a short greeting after the `start` activity, a short reply
DIALOGUE_REPLY_TICKS after each `userStream.stop`, and a `hangup` activity after DIALOGUE_TURNS replies.

Every agent frame is built once and sent as the same bytes to every call. One process, one thread,
epoll, non-blocking sockets. `python bench/sink.py --port 0` prints `sink listening on ws://...`; on
SIGTERM / SIGINT it prints one JSON line of its counters and CPU time and exits.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import resource
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from callers.media import audio  # noqa: E402
from callers.wire import protocol  # noqa: E402

FRAME_S = audio.DEFAULT_FRAME_MS / 1000.0
PROMPT_FRAMES = 150  # 3 s prompts
GAP_FRAMES = 5  # 100 ms between prompts
TONE_HZ = 300.0
TONE_AMPLITUDE = 4000
DIALOGUE_PROMPT_FRAMES = 50  # 1 s greeting / reply
DIALOGUE_REPLY_TICKS = 10  # 200 ms think time
DIALOGUE_TURNS = 3
DIALOGUE_TEXT = "Thank you. Is there anything else I can help you with today?"
# Calls are spread over this many send slots per 20 ms, like independent bridges would be, instead of every
# call receiving its chunk in the same instant.
SLOTS = 10
MAX_PENDING_OUT = 256 * 1024  # a call that stops reading loses agent frames beyond this, the sink never blocks
# A 256 KiB receive buffer costs more to allocate and give back than the ~1 KB a read brings: with it the
# sink spent 60-80 % more CPU on the same 600-800 callers than with 64 KiB.
RECV_BYTES = 64 * 1024
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CHUNK_MARK = b'{"type":"' + protocol.USER_STREAM_CHUNK.encode() + b'"'
PEEK_BYTES = len(CHUNK_MARK)
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def server_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """An unmasked, final server frame (servers never mask)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def _message(message: dict) -> bytes:
    return server_frame(protocol.encode(message).encode())


def _unmask(data: bytes, key: bytes) -> bytes:
    size = len(data)
    mask = int.from_bytes((key * (size // 4 + 1))[:size], "little")
    return (int.from_bytes(data, "little") ^ mask).to_bytes(size, "little")


class AgentFrames:
    """The sink's whole vocabulary, encoded once."""

    def __init__(self, media_format: str) -> None:
        fmt = audio.parse_media_format(media_format)
        t = np.arange(int(fmt.sample_rate * FRAME_S)) / fmt.sample_rate
        pcm = (TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
        chunk = audio.frames_for(pcm, fmt.sample_rate, fmt, audio.DEFAULT_FRAME_MS)[0]
        cid = "sink"
        self.start = _message(protocol.play_stream_start(cid, "p", fmt.token, alt_text="sink prompt"))
        self.chunk = _message(protocol.play_stream_chunk(cid, "p", chunk))
        self.stop = _message(protocol.play_stream_stop(cid, "p"))
        self.accepted = _message(protocol.session_accepted(cid, fmt.token))
        self.said = _message(protocol.play_stream_start(cid, "p", fmt.token, alt_text=DIALOGUE_TEXT))
        self.hangup = _message(protocol.bot_activity(cid, protocol.ACTIVITY_HANGUP))
        self.started = _message(protocol.simple(protocol.USER_STREAM_STARTED, cid))
        self.stopped = _message(protocol.simple(protocol.USER_STREAM_STOPPED, cid))
        self.close = server_frame(struct.pack("!H", 1000), OP_CLOSE)
        self.token = fmt.token


class Connection:
    __slots__ = ("sock", "slot", "inbuf", "out", "upgraded", "accepted", "phase", "closing", "reply_in", "playing",
                 "replies")

    def __init__(self, sock: socket.socket, slot: int) -> None:
        self.sock = sock
        self.slot = slot
        self.inbuf = bytearray()
        self.out = bytearray()
        self.upgraded = False
        self.accepted = False
        self.phase = 0  # position in the prompt cycle
        self.closing = False
        self.reply_in = 0  # dialogue: ticks until the next prompt starts (0: none pending)
        self.playing = 0  # dialogue: frames of the current prompt still to send
        self.replies = 0


class Sink:
    def __init__(self, host: str, port: int, media_format: str, dialogue: bool = False) -> None:
        self.frames = AgentFrames(media_format)
        self.dialogue = dialogue
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(4096)
        self.listener.setblocking(False)
        self.selector = selectors.EpollSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.connections: dict[int, Connection] = {}
        self.slots: list[set] = [set() for _ in range(SLOTS)]
        self.counts = {"connections": 0, "caller_chunks": 0, "caller_messages": 0, "agent_frames": 0,
                       "agent_frames_dropped": 0, "max_open": 0}
        self.running = True

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()[:2]
        return f"ws://{host}:{port}{'/ws/telephony'}"

    def serve(self) -> None:
        next_tick = time.monotonic()
        slot = 0
        while self.running:
            timeout = max(0.0, next_tick - time.monotonic())
            for key, mask in self.selector.select(timeout):
                if key.data is None:
                    self._accept()
                    continue
                conn = key.data
                if mask & selectors.EVENT_READ:
                    self._read(conn)
                if mask & selectors.EVENT_WRITE and conn.sock.fileno() >= 0:
                    self._flush(conn)
            now = time.monotonic()
            if now >= next_tick:
                self._tick(slot)
                slot = (slot + 1) % SLOTS
                next_tick += FRAME_S / SLOTS
                if next_tick < now:  # the sink itself fell behind: skip, never burst
                    next_tick = now + FRAME_S / SLOTS

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, self.counts["connections"] % SLOTS)
            self.connections[sock.fileno()] = conn
            self.slots[conn.slot].add(conn)
            self.selector.register(sock, selectors.EVENT_READ, conn)
            self.counts["connections"] += 1
            self.counts["max_open"] = max(self.counts["max_open"], len(self.connections))

    def _tick(self, slot: int) -> None:
        if self.dialogue:
            self._tick_dialogue(slot)
            return
        frames = self.frames
        cycle = PROMPT_FRAMES + GAP_FRAMES
        for conn in list(self.slots[slot]):
            if not conn.accepted or conn.closing:
                continue
            phase = conn.phase
            conn.phase = (phase + 1) % cycle
            if phase == 0:
                self._send(conn, frames.start + frames.chunk)
            elif phase < PROMPT_FRAMES - 1:
                self._send(conn, frames.chunk)
            elif phase == PROMPT_FRAMES - 1:
                self._send(conn, frames.chunk + frames.stop)
            else:
                continue
            self.counts["agent_frames"] += 1

    def _tick_dialogue(self, slot: int) -> None:
        frames = self.frames
        for conn in list(self.slots[slot]):
            if not conn.accepted or conn.closing:
                continue
            if conn.reply_in > 0:
                conn.reply_in -= 1
                if conn.reply_in == 0:
                    conn.playing = DIALOGUE_PROMPT_FRAMES
                    self._send(conn, frames.said)
            if conn.playing <= 0:
                continue
            conn.playing -= 1
            self.counts["agent_frames"] += 1
            if conn.playing > 0:
                self._send(conn, frames.chunk)
                continue
            self._send(conn, frames.chunk + frames.stop)
            if conn.replies > DIALOGUE_TURNS:
                self._send(conn, frames.hangup)

    def _send(self, conn: Connection, data: bytes) -> None:
        if conn.out:
            if len(conn.out) > MAX_PENDING_OUT:
                self.counts["agent_frames_dropped"] += 1
                return
            conn.out += data
            return
        try:
            sent = conn.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(conn)
            return
        if sent < len(data):
            conn.out += data[sent:]
            self.selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def _flush(self, conn: Connection) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except BlockingIOError:
            return
        except OSError:
            self._drop(conn)
            return
        del conn.out[:sent]
        if not conn.out:
            if conn.closing:
                self._drop(conn)
            else:
                self.selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.inbuf += data
        if not conn.upgraded:
            self._upgrade(conn)
            return
        self._frames(conn)

    def _upgrade(self, conn: Connection) -> None:
        end = conn.inbuf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(conn.inbuf[:end]).decode("latin-1")
        del conn.inbuf[:end + 4]
        key = ""
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        self._send(conn, ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        conn.upgraded = True
        if conn.inbuf:
            self._frames(conn)

    def _frames(self, conn: Connection) -> None:
        buf = conn.inbuf
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            opcode = buf[pos] & 0x0F
            size = buf[pos + 1] & 0x7F
            at = pos + 2
            if size == 126:
                if end - at < 2:
                    break
                size = int.from_bytes(buf[at:at + 2], "big")
                at += 2
            elif size == 127:
                if end - at < 8:
                    break
                size = int.from_bytes(buf[at:at + 8], "big")
                at += 8
            masked = buf[pos + 1] & 0x80
            key = bytes(buf[at:at + 4]) if masked else b"\0\0\0\0"
            at += 4 if masked else 0
            if end - at < size:
                break
            pos = at + size
            if opcode == OP_TEXT:
                peek = _unmask(bytes(buf[at:at + PEEK_BYTES]), key)
                if peek == CHUNK_MARK:
                    self.counts["caller_chunks"] += 1
                    continue
                self._message(conn, _unmask(bytes(buf[at:pos]), key))
            elif opcode == OP_CLOSE:
                self._send(conn, self.frames.close)
                conn.closing = True
                if not conn.out:
                    self._drop(conn)
                    return
            elif opcode == OP_PING:
                self._send(conn, server_frame(_unmask(bytes(buf[at:pos]), key), OP_PONG))
        del buf[:pos]

    def _message(self, conn: Connection, payload: bytes) -> None:
        self.counts["caller_messages"] += 1
        try:
            kind = json.loads(payload).get("type")
        except (ValueError, AttributeError):
            return
        if kind == protocol.SESSION_INITIATE:
            self._send(conn, self.frames.accepted)
            conn.accepted = True
        elif kind == protocol.USER_STREAM_START:
            self._send(conn, self.frames.started)
        elif kind == protocol.USER_STREAM_STOP:
            self._send(conn, self.frames.stopped)
            if self.dialogue:
                self._reply(conn)
        elif kind == protocol.ACTIVITIES and self.dialogue and conn.replies == 0:
            self._reply(conn)  # the start activity: greet

    def _reply(self, conn: Connection) -> None:
        if conn.playing > 0:
            conn.playing = 1  # the caller talked over the prompt: it stops with the next frame
        conn.replies += 1
        conn.reply_in = DIALOGUE_REPLY_TICKS

    def _drop(self, conn: Connection) -> None:
        fd = conn.sock.fileno()
        if fd < 0:
            return
        self.selector.unregister(conn.sock)
        self.connections.pop(fd, None)
        self.slots[conn.slot].discard(conn)
        conn.sock.close()

    def stop(self, *_args: object) -> None:
        self.running = False


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--media-format", default=protocol.DEFAULT_MEDIA_FORMAT)
    parser.add_argument("--cpu", type=int, default=None, help="pin the sink to this CPU")
    parser.add_argument("--dialogue", action="store_true", help="take turns and hang up (whole calls complete)")
    args = parser.parse_args(argv)
    machine.pin_to(args.cpu)
    sink = Sink(args.host, args.port, args.media_format, args.dialogue)
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
    print(f"sink listening on {sink.url}", flush=True)
    started = time.monotonic()
    sink.serve()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - started
    print(json.dumps({**sink.counts, "wall_s": round(wall, 2),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
