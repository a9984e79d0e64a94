"""callers/runtime/pacer.py: every utterance of the process paced by one greenlet, on real sockets."""
from __future__ import annotations

import socket
import threading
import time

import gevent
import gevent.monkey
import numpy as np
import pytest
from gevent.event import Event
from hypothesis import given, settings
from hypothesis import strategies as st

from callers.runtime import pacer
from callers.runtime.pacer import Utterance, get_pacer

FRAME_S = 0.02


def _reader(sock: socket.socket, received: list) -> None:
    while True:
        data = sock.recv(65536)
        if not data:
            return
        received.append(len(data))


def test_frames_leave_on_absolute_deadlines():
    ours, theirs = socket.socketpair()
    received: list = []
    reading = gevent.spawn(_reader, theirs, received)
    utterance = Utterance(ours, threading.Lock(), lambda index: b"x" * 640, 25, FRAME_S, None)
    get_pacer().play(utterance)
    assert utterance.sent == 25 and utterance.error is None and utterance.done.is_set()
    span = utterance.last_sent_at - utterance.first_sent_at
    assert abs(span - 24 * FRAME_S) < 0.015  # no drift: the 25th frame left 480 ms after the first
    assert float(np.percentile(utterance.lateness_ms, 50)) < 5.0
    ours.close()
    reading.join(2)
    assert sum(received) == 25 * 640


def test_a_stuck_socket_does_not_delay_another_callers_audio():
    stuck, never_read = socket.socketpair()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    big = b"y" * 200_000  # the stuck peer's buffers fill on the first frame
    blocked = Utterance(stuck, threading.Lock(), lambda index: big, 50, FRAME_S, None)
    ours, theirs = socket.socketpair()
    received: list = []
    reading = gevent.spawn(_reader, theirs, received)
    healthy = Utterance(ours, threading.Lock(), lambda index: b"x" * 640, 25, FRAME_S, None)
    stuck_speaker = gevent.spawn(get_pacer().play, blocked)
    gevent.sleep(0.05)
    get_pacer().play(healthy)
    assert healthy.sent == 25 and healthy.error is None
    assert float(healthy.lateness_ms.max()) < 15.0
    assert not blocked.done.is_set() and blocked.sent == 0  # still waiting for its peer, alone
    never_read.close()  # the peer goes away: the blocked utterance ends with the socket error
    stuck_speaker.join(5)
    assert blocked.done.is_set() and isinstance(blocked.error, OSError)
    for sock in (stuck, ours):
        sock.close()
    reading.join(2)


def test_setting_stop_when_ends_the_utterance_early():
    ours, theirs = socket.socketpair()
    received: list = []
    reading = gevent.spawn(_reader, theirs, received)
    stop = Event()
    utterance = Utterance(ours, threading.Lock(), lambda index: b"x" * 640, 100, FRAME_S, stop)
    gevent.spawn_later(0.1, stop.set)
    get_pacer().play(utterance)
    assert 3 <= utterance.sent <= 8
    ours.close()
    reading.join(2)


def test_a_killed_speaker_leaves_the_pacer_running_for_the_others():
    ours, theirs = socket.socketpair()
    received: list = []
    reading = gevent.spawn(_reader, theirs, received)
    first = Utterance(ours, threading.Lock(), lambda index: b"x" * 640, 100, FRAME_S, None)
    speaker = gevent.spawn(get_pacer().play, first)
    gevent.sleep(0.05)
    speaker.kill()
    assert first.cancelled
    sent_when_killed = first.sent
    second = Utterance(ours, threading.Lock(), lambda index: b"z" * 640, 5, FRAME_S, None)
    get_pacer().play(second)
    assert second.sent == 5 and first.sent == sent_when_killed
    ours.close()
    reading.join(2)


def _read_all(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("tail", [None, b"<stop>"])
def test_a_frame_waits_for_another_greenlet_that_is_part_way_through_its_own(tail):
    """The first frame is handed to a helper until the other write is done; the tail still follows last."""
    ours, theirs = socket.socketpair()
    lock = threading.Lock()

    def other_sender() -> None:  # e.g. websocket-client sending a control message in two writes
        with lock:
            ours.sendall(b"<part one>")
            gevent.sleep(0.1)
            ours.sendall(b"<part two>")

    holder = gevent.spawn(other_sender)
    gevent.sleep(0.01)
    utterance = Utterance(ours, lock, lambda index: b"%d" % index, 3, FRAME_S, None, tail=tail)
    get_pacer().play(utterance)
    holder.join(2)
    assert utterance.sent == 3 and utterance.error is None and utterance.tail_sent is (tail is not None)
    expected = b"<part one><part two>012" + (tail or b"")
    assert _read_all(theirs, len(expected)) == expected
    ours.close()


def test_plain_blocking_sockets_are_paced_too():
    """Without gevent's patching (a library user's own threads), frames go out with a blocking sendall."""
    plain_socketpair = gevent.monkey.get_original("socket", "socketpair")
    plain_lock = gevent.monkey.get_original("threading", "Lock")
    ours, theirs = plain_socketpair()
    utterance = Utterance(ours, plain_lock(), lambda index: b"x" * 640, 10, FRAME_S, None)
    get_pacer().play(utterance)
    assert utterance.sent == 10 and utterance.error is None
    assert abs((utterance.last_sent_at - utterance.first_sent_at) - 9 * FRAME_S) < 0.015
    assert _read_all(theirs, 6400) == b"x" * 6400
    ours.close()
    theirs.close()


def _read_until(sock, tail: bytes, arrivals: list) -> bytes:
    """Everything up to and including `tail`, noting when each piece arrived."""
    data = b""
    while not data.endswith(tail):
        chunk = sock.recv(65536)
        if not chunk:
            break
        arrivals.append((time.monotonic(), chunk))
        data += chunk
    return data


def test_the_tail_follows_the_last_frame_at_once():
    """userStream.stop rides on the pacer: it leaves right after the last frame, not a frame later and not
    when the speaking greenlet next gets the loop."""
    ours, theirs = socket.socketpair()
    arrivals: list = []
    reading = gevent.spawn(_read_until, theirs, b"<stop>", arrivals)
    utterance = Utterance(ours, threading.Lock(), lambda index: b"%d," % index, 10, FRAME_S, None, tail=b"<stop>")
    get_pacer().play(utterance)
    assert utterance.sent == 10 and utterance.tail_sent and utterance.error is None
    assert reading.get(timeout=2) == b"0,1,2,3,4,5,6,7,8,9,<stop>"
    last_frame_at = max(at for at, chunk in arrivals if b"9," in chunk)
    stop_at = max(at for at, chunk in arrivals if chunk.endswith(b"<stop>"))
    assert stop_at - last_frame_at < FRAME_S / 2
    ours.close()


def test_the_tail_goes_out_when_stop_when_ends_the_audio_early():
    ours, theirs = socket.socketpair()
    arrivals: list = []
    reading = gevent.spawn(_read_until, theirs, b"<stop>", arrivals)
    stop = Event()
    utterance = Utterance(ours, threading.Lock(), lambda index: b"x", 100, FRAME_S, stop, tail=b"<stop>")
    gevent.spawn_later(0.1, stop.set)
    get_pacer().play(utterance)
    assert 3 <= utterance.sent <= 8 and utterance.tail_sent
    assert reading.get(timeout=2) == b"x" * utterance.sent + b"<stop>"
    ours.close()


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e4, allow_nan=False), min_size=1, max_size=400)
       | st.lists(st.sampled_from([0.0, 0.25, 1.0, 3.5]), min_size=1, max_size=300))
def test_the_pacing_p99_is_numpys_percentile_to_the_bit(values):
    lateness_ms = np.array(values, dtype=np.float64)
    expected = float(np.percentile(lateness_ms, 99))
    assert pacer.lateness_p99_ms(lateness_ms) == expected
    assert np.array_equal(lateness_ms, np.array(values))  # the input is left as it was


def test_the_longest_gap_is_the_longest_extra_wait_between_two_frames():
    """A stall then a catch-up burst: the line was silent for the stall; a steady delay opens no pause."""
    assert pacer.longest_gap_ms(np.array([0.0, 0.4, 120.0, 100.0, 80.0, 60.0, 40.0, 20.0, 0.0])) == 119.6
    assert pacer.longest_gap_ms(np.array([90.0, 90.0, 90.0])) == 0.0
    assert pacer.longest_gap_ms(np.array([50.0])) == 0.0
    assert pacer.longest_gap_ms(None) == 0.0
