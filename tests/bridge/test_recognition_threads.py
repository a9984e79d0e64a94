"""The bridge's recognition stays within its bounds: --stt-threads passes at once, at --stt-nice below the
bridge's own loop, so callers sharing the host keep their real-time audio."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from bridge.server import lower_thread_priority
from bridge.settings import DEFAULT_STT_THREADS, BridgeSettings
from tests.reference_bridge import launch_bridge

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def thread_nice(pid: int) -> dict[int, int]:
    """Nice value of each thread of `pid` (field 19 of /proc/<pid>/task/<tid>/stat)."""
    nice = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = task.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        nice[int(task.name)] = int(fields[16])
    return nice


def test_recognition_settings_are_validated() -> None:
    assert 1 <= DEFAULT_STT_THREADS <= max(1, (os.cpu_count() or 2) // 2)
    with pytest.raises(ValueError, match="at least 1 thread"):
        BridgeSettings(stt_threads=0)
    with pytest.raises(ValueError, match="nice must be 0..19"):
        BridgeSettings(stt_nice=20)


def run_in_os_thread(func) -> None:
    """`func` on a new OS thread, joined: the suite runs under gevent, where threading.Thread is a greenlet
    of this very thread (whose priority must not change)."""
    from gevent import monkey

    start_new_thread = monkey.get_original("_thread", "start_new_thread")
    done = monkey.get_original("_thread", "allocate_lock")()
    done.acquire()

    def body() -> None:
        try:
            func()
        finally:
            done.release()

    start_new_thread(body, ())
    done.acquire()


@linux_only
def test_lowering_a_threads_priority_leaves_the_others_and_passes_to_its_threads() -> None:
    seen: dict[str, int] = {}

    def own_nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def recognition_thread() -> None:
        lower_thread_priority(4)
        seen["lowered"] = own_nice()
        run_in_os_thread(lambda: seen.__setitem__("started by it", own_nice()))

    before = own_nice()
    run_in_os_thread(recognition_thread)
    assert seen == {"lowered": before + 4, "started by it": before + 4}
    assert own_nice() == before


@linux_only
@pytest.mark.whisper
@pytest.mark.timeout(120)
def test_the_bridge_recognises_on_bounded_lower_priority_threads(tmp_path) -> None:
    """The model's own threads are started from a lowered recognition thread, so they inherit its priority;
    the loop that paces the agent's audio keeps the bridge's."""
    bridge = launch_bridge("--stt-threads", "1", "--stt-nice", "5", stderr_path=tmp_path / "bridge.stderr")
    try:
        nice = thread_nice(bridge.proc.pid)
        assert nice[bridge.proc.pid] == 0
        lowered = [tid for tid, value in nice.items() if value == 5]
        # The executor's one thread and the one model replica it loaded.
        assert 1 <= len(lowered) <= 2, nice
    finally:
        bridge.proc.terminate()
        bridge.proc.wait(10)
