"""WebSocket (RFC 6455) framing for a caller's two hot paths, as pure functions over bytes.

websocket-client frames a send through several Python objects and reads a received frame with three
`recv` calls (header, length, payload). At 50 frames a second each way per caller that overhead, not the
network, sets how many callers a core can run. So the audio paths frame by hand: `client_frame` builds a
masked frame in one go, and `FrameReader` splits whatever one `recv` returned into whole messages. The
handshake, closing and everything else stay with websocket-client. No I/O here.
"""
from __future__ import annotations

import os
import struct
from typing import Optional

# websockets' C masking (its pure-Python version where the wheel has no compiled speedups): ~0.13 µs for a
# 950-byte audio frame, against ~1.9 µs with numpy; it runs once for every frame a caller sends.
from websockets.frames import apply_mask

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA
_FIN = 0x80
_MASKED = 0x80
# First bytes of a final, unfragmented text / binary frame: nearly every frame a bridge sends.
_WHOLE_DATA_FRAMES = (_FIN | OPCODE_TEXT, _FIN | OPCODE_BINARY)
# Mask keys come from the OS entropy source (RFC 6455 5.3), fetched in blocks: one syscall per 1024 frames.
_KEY_BLOCK_BYTES = 4096


class FrameError(ValueError):
    """The peer broke the framing (a control frame split or too long, a message past the size limit)."""


# Keys not yet used, taken from the end; refilled from one os.urandom block when empty. A forked process
# (Locust's --processes workers) starts empty: the rest of its parent's block is its siblings' keys too.
_keys: list[bytes] = []
os.register_at_fork(after_in_child=_keys.clear)


def _refill_keys() -> bytes:
    """One new key, after filling `_keys` with the rest of a fresh block (a list pop is the cheap way out)."""
    block = os.urandom(_KEY_BLOCK_BYTES)
    _keys.extend([block[at:at + 4] for at in range(0, _KEY_BLOCK_BYTES, 4)])
    return _keys.pop()


# mask(payload, key): XOR `payload` with the 4-byte `key` repeated (masking and unmasking are the same).
mask = apply_mask


def client_frame(payload: bytes, opcode: int = OPCODE_TEXT) -> bytes:
    """One final, masked client frame carrying `payload`, with a fresh mask key."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN | opcode, _MASKED | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN | opcode, _MASKED | 126, size)
    else:
        header = struct.pack("!BBQ", _FIN | opcode, _MASKED | 127, size)
    key = _keys.pop() if _keys else _refill_keys()
    return header + key + mask(payload, key)


class FrameReader:
    """Bytes in, whole messages out: `feed` returns the (opcode, payload) of every message completed.

    Fragmented messages are joined (their opcode is the first fragment's); control frames may arrive
    between fragments and come out on their own. Server frames are unmasked, but a masked one is unmasked
    rather than refused (lenient in what we accept).
    """

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._fragments: Optional[list] = None
        self._fragment_opcode = OPCODE_TEXT
        self._fragment_bytes = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        messages: list[tuple[int, bytes]] = []
        pos = 0
        if not buffer and self._fragments is None:
            # Most reads hold whole, unmasked data frames with a 16-bit length (agent chunks), one or a few:
            # they are split off here; whatever follows them goes the general way below.
            end, limit = len(data), self.max_message_bytes
            while end - pos > 4 and data[pos] in _WHOLE_DATA_FRAMES and data[pos + 1] == 126:
                start = pos + 4
                stop = start + (data[pos + 2] << 8 | data[pos + 3])
                if stop > end or stop - start > limit:
                    break
                messages.append((data[pos] & 0x0F, data[start:stop]))
                pos = stop
            if pos == end:
                return messages
        if buffer:
            buffer += data
            view = buffer
        else:
            view = data
        end = len(view)
        while end - pos >= 2:
            first, second = view[pos], view[pos + 1]
            size = second & 0x7F
            at = pos + 2
            if size == 126:
                if end - at < 2:
                    break
                size = view[at] << 8 | view[at + 1]
                at += 2
            elif size == 127:
                if end - at < 8:
                    break
                size = int.from_bytes(view[at:at + 8], "big")
                at += 8
            if size > self.max_message_bytes:
                raise FrameError(f"frame of {size} bytes exceeds the {self.max_message_bytes}-byte limit")
            key = None
            if second & _MASKED:
                if end - at < 4:
                    break
                key = bytes(view[at:at + 4])
                at += 4
            if end - at < size:
                break
            payload = bytes(view[at:at + size])
            pos = at + size
            if key is not None:
                payload = mask(payload, key)
            if first in _WHOLE_DATA_FRAMES and self._fragments is None:
                messages.append((first & 0x0F, payload))
            else:
                self._frame(first & _FIN, first & 0x0F, payload, messages)
        if pos:
            if view is buffer:
                del buffer[:pos]
            else:
                buffer += data[pos:]
        elif view is not buffer:
            buffer += data
        return messages

    def _frame(self, fin: int, opcode: int, payload: bytes, messages: list) -> None:
        if opcode >= OPCODE_CLOSE:
            if not fin or len(payload) > 125:
                raise FrameError("control frame fragmented or longer than 125 bytes")
            messages.append((opcode, payload))
            return
        if opcode != OPCODE_CONTINUATION:
            if self._fragments is not None:
                raise FrameError("new message started inside a fragmented one")
            if fin:
                messages.append((opcode, payload))
                return
            self._fragments, self._fragment_opcode, self._fragment_bytes = [payload], opcode, len(payload)
            return
        if self._fragments is None:
            raise FrameError("continuation frame without a message to continue")
        self._fragments.append(payload)
        self._fragment_bytes += len(payload)
        if self._fragment_bytes > self.max_message_bytes:
            raise FrameError(f"message exceeds the {self.max_message_bytes}-byte limit")
        if fin:
            messages.append((self._fragment_opcode, b"".join(self._fragments)))
            self._fragments = None
