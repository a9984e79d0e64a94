"""The async API's plumbing without real-time audio: which calls wait to be awaited, where an awaited call
runs, and the TLS context made for unpatched processes. (Whole calls: tests/callers/call/test_async_api.py.)"""
from __future__ import annotations

import asyncio
import socket
import ssl
import sys

import gevent.monkey
import gevent.ssl
import pytest

from callers import create_caller
from callers.call import events
from callers.runtime.async_call import CALL_SWITCH_INTERVAL_S, AsyncCall, caller_thread
from callers.transport.green_connect import green_tls_context

native_thread_id = gevent.monkey.get_original("_thread", "get_ident")
native_lock = gevent.monkey.get_original("_thread", "allocate_lock")
DEFAULT_SWITCH_INTERVAL = sys.getswitchinterval()


def refused_url() -> str:
    """A loopback port nobody listens on (bound, then closed): dialling it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}/ws/telephony"


def test_start_call_from_an_asyncio_task_runs_nothing_until_awaited() -> None:
    caller = create_caller("normal_account_inquiry", refused_url(), seed=1, ear="alttext")

    async def body():
        outcome = caller.start_call(timeout=5)
        return outcome.pending, caller.result, repr(outcome)

    pending, result, shown = asyncio.run(body())
    assert pending and result is None and "pending" in shown


def test_start_call_outside_asyncio_runs_the_call_before_returning() -> None:
    caller = create_caller("normal_account_inquiry", refused_url(), seed=1, ear="alttext")
    outcome = caller.start_call(timeout=5)
    assert not outcome.pending and outcome.result is caller.result
    assert not outcome and caller.result.error_category == "connect_failed"


def test_an_awaited_call_runs_on_the_caller_thread_and_leaves_its_result() -> None:
    caller = create_caller("normal_account_inquiry", refused_url(), seed=1, ear="alttext")
    finished_on = []

    def finished(call, result) -> None:
        finished_on.append((call, native_thread_id()))

    async def body() -> bool:
        async with caller:
            return await caller.start_call(timeout=5)

    events.call_finished.add_listener(finished)
    try:
        success = asyncio.run(body())
    finally:
        events.call_finished.remove_listener(finished)
    assert success is False and caller.result.error_category == "connect_failed"
    [(call, thread)] = finished_on
    assert call is caller and thread != native_thread_id()


def test_the_unpatched_tls_context_trusts_what_sslopt_says() -> None:
    default = green_tls_context({})
    assert isinstance(default, gevent.ssl.SSLContext)
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    insecure = green_tls_context({"cert_reqs": ssl.CERT_NONE, "check_hostname": False})
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    with pytest.raises(ValueError, match="ciphers"):
        green_tls_context({"ciphers": "HIGH"})


def test_the_switch_interval_is_restored_before_the_awaiting_side_hears_the_call_ended() -> None:
    before = sys.getswitchinterval()
    seen_during, seen_after = [], []

    def quick_call() -> str:
        seen_during.append(sys.getswitchinterval())
        return "done"

    async def body() -> None:
        for _ in range(20):  # the awaiting side woke before the interval was restored, now and then
            assert await AsyncCall(quick_call).result() == "done"
            seen_after.append(sys.getswitchinterval())

    asyncio.run(body())
    assert set(seen_during) == {min(before, CALL_SWITCH_INTERVAL_S)} and set(seen_after) == {before}


def test_a_call_cancelled_before_it_ran_still_ends() -> None:
    ran = []
    held = native_lock()
    held.acquire()

    async def body() -> None:
        # The caller thread is held in a job of its own until both the start and the cancel are queued
        # behind it, so they run in one go and the call's greenlet is killed before it ever runs (without
        # the hold, the thread may start and finish the call between the two).
        caller_thread().submit(lambda: held.acquire(timeout=5))
        call = AsyncCall(lambda: ran.append(True))
        cancelling = asyncio.ensure_future(call.cancel())
        await asyncio.sleep(0.05)
        held.release()
        await asyncio.wait_for(cancelling, timeout=5)
        with pytest.raises(asyncio.CancelledError):
            await call.result()

    asyncio.run(body())
    assert ran == [] and sys.getswitchinterval() == DEFAULT_SWITCH_INTERVAL
