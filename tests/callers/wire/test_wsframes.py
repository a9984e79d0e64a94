"""callers/wire/wsframes.py: the hand-built client frames and the frame reader, checked against RFC 6455 and
against websocket-client's own framing."""
from __future__ import annotations

import os
import struct

import pytest
import websocket

from callers.wire import wsframes


def _server_frame(payload: bytes, opcode: int = wsframes.OPCODE_TEXT, fin: bool = True,
                  key: bytes = b"") -> bytes:
    size = len(payload)
    mask_bit = 0x80 if key else 0
    if size < 126:
        header = struct.pack("!BB", (0x80 if fin else 0) | opcode, mask_bit | size)
    elif size < 65536:
        header = struct.pack("!BBH", (0x80 if fin else 0) | opcode, mask_bit | 126, size)
    else:
        header = struct.pack("!BBQ", (0x80 if fin else 0) | opcode, mask_bit | 127, size)
    return header + key + (wsframes.mask(payload, key) if key else payload)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 70000])
def test_client_frames_parse_as_websocket_client_parses_them(size):
    payload = os.urandom(size)
    frame = wsframes.client_frame(payload, wsframes.OPCODE_BINARY)
    chunks = [frame]

    def recv(_bufsize: int) -> bytes:
        data = chunks.pop(0) if chunks else b""
        chunks[:0] = [data[_bufsize:]] if len(data) > _bufsize else []
        return data[:_bufsize]

    parsed = websocket._abnf.frame_buffer(recv, skip_utf8_validation=True).recv_frame()
    assert frame[1] & 0x80  # a client frame is masked
    assert parsed.fin == 1 and parsed.opcode == wsframes.OPCODE_BINARY and parsed.data == payload


def test_every_frame_gets_a_fresh_mask_key():
    keys = {wsframes.client_frame(b"same payload")[2:6] for _ in range(200)}
    assert len(keys) > 190


def test_a_forked_process_does_not_reuse_its_parents_mask_keys():
    """Locust's --processes forks workers: each must draw its own keys, not the rest of the parent's block."""
    wsframes.client_frame(b"fills the parent's keys")
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write_end, wsframes.client_frame(b"child")[2:6])
        os._exit(0)
    os.close(write_end)
    child_key = os.read(read_end, 4)
    os.close(read_end)
    os.waitpid(child, 0)
    assert len(child_key) == 4 and child_key != wsframes.client_frame(b"parent")[2:6]


def test_reader_joins_messages_split_anywhere_across_reads():
    payloads = [os.urandom(n) for n in (0, 5, 125, 126, 1000, 70000)]
    stream = b"".join(_server_frame(p, wsframes.OPCODE_BINARY) for p in payloads)
    for step in (1, 7, 1000, len(stream)):
        reader = wsframes.FrameReader(1 << 20)
        out = []
        for at in range(0, len(stream), step):
            out += reader.feed(stream[at:at + step])
        assert [payload for _, payload in out] == payloads


@pytest.mark.parametrize("size", [0, 1, 125, 126, 950, 65535, 65536])
@pytest.mark.parametrize("opcode", [wsframes.OPCODE_TEXT, wsframes.OPCODE_BINARY])
def test_a_read_of_one_whole_frame_gives_what_byte_by_byte_reads_give(size, opcode):
    frame = _server_frame(os.urandom(size), opcode)
    whole = wsframes.FrameReader(1 << 20).feed(frame)
    reader = wsframes.FrameReader(1 << 20)
    piecewise = [message for at in range(len(frame)) for message in reader.feed(frame[at:at + 1])]
    assert whole == piecewise and len(whole) == 1


_CHUNK = _server_frame(os.urandom(950))
_FRAGMENT_START = _server_frame(b'{"type":', wsframes.OPCODE_TEXT, fin=False)
_FRAGMENT_END = _server_frame(b'"x"}', wsframes.OPCODE_CONTINUATION)


@pytest.mark.parametrize("read, rest", [
    (_CHUNK * 3, b""),
    (_CHUNK * 2 + _CHUNK[:500], _CHUNK[500:]),  # a read ending part-way through a frame
    (_CHUNK + _CHUNK[:3], _CHUNK[3:]),  # ... or part-way through its header
    (_CHUNK + _server_frame(b"hi", wsframes.OPCODE_PING) + _CHUNK, b""),
    (_CHUNK + _server_frame(b"short") + _CHUNK, b""),
    (_CHUNK + _FRAGMENT_START, _FRAGMENT_END + _CHUNK),
    (_CHUNK + _server_frame(os.urandom(70000), wsframes.OPCODE_BINARY), b""),
], ids=["three", "partial", "partial-header", "ping", "7-bit", "fragment", "64-bit"])
def test_a_read_of_several_frames_gives_what_byte_by_byte_reads_give(read, rest):
    """Then the rest of the stream, so a frame or message left part-way is finished the same way too."""
    reader = wsframes.FrameReader(1 << 20)
    whole = reader.feed(read) + reader.feed(rest)
    stream, reader = read + rest, wsframes.FrameReader(1 << 20)
    piecewise = [message for at in range(len(stream)) for message in reader.feed(stream[at:at + 1])]
    assert whole == piecewise


def test_a_16_bit_length_for_a_short_payload_is_read_too():
    assert wsframes.FrameReader(1 << 20).feed(struct.pack("!BBH", 0x81, 126, 5) + b"hello") == [
        (wsframes.OPCODE_TEXT, b"hello")]


def test_a_whole_data_frame_inside_a_fragmented_message_is_a_frame_error():
    reader = wsframes.FrameReader(1 << 20)
    assert reader.feed(_server_frame(b'{"type":', wsframes.OPCODE_TEXT, fin=False)) == []
    with pytest.raises(wsframes.FrameError):
        reader.feed(_server_frame(b"x" * 950, wsframes.OPCODE_TEXT))


def test_reader_reassembles_fragments_with_control_frames_between_them():
    reader = wsframes.FrameReader(1 << 20)
    data = (_server_frame(b'{"type":', wsframes.OPCODE_TEXT, fin=False)
            + _server_frame(b"hi", wsframes.OPCODE_PING)
            + _server_frame(b'"x"}', wsframes.OPCODE_CONTINUATION, fin=True))
    assert reader.feed(data) == [(wsframes.OPCODE_PING, b"hi"), (wsframes.OPCODE_TEXT, b'{"type":"x"}')]


def test_reader_unmasks_a_masked_server_frame():
    reader = wsframes.FrameReader(1 << 20)
    assert reader.feed(_server_frame(b"hello", key=b"\x01\x02\x03\x04")) == [(wsframes.OPCODE_TEXT, b"hello")]


@pytest.mark.parametrize("data", [
    _server_frame(b"x" * 200, wsframes.OPCODE_PING),  # control frame too long
    _server_frame(b"x", wsframes.OPCODE_CONTINUATION),  # nothing to continue
    _server_frame(b"x" * 2000, wsframes.OPCODE_BINARY),  # past the size limit
])
def test_broken_framing_is_a_frame_error(data):
    with pytest.raises(wsframes.FrameError):
        wsframes.FrameReader(1024).feed(data)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 950, 4097])
def test_mask_is_the_rfc_xor_with_the_key_repeated(size):
    payload, key = os.urandom(size), os.urandom(4)
    expected = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    assert wsframes.mask(payload, key) == expected
    assert wsframes.mask(expected, key) == payload
