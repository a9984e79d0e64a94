"""Awaited calls run on the caller thread: one OS thread of the process with a gevent hub of its own.

Why this design. The call's machinery is gevent's: a hub that reads the calls' sockets when they have bytes
(callers/transport/telephony.py), one pacer and one read sweep per hub (callers/runtime/pacer.py and
read_sweep.py), a loop-lag probe, a render thread pool. An asyncio program has its own loop in its own thread,
and running the call there (as `start_call` did) freezes every other task until the call ends. So an awaited call runs
as a greenlet on a hub that is not the program's: one background thread started on first use, shared by
every awaited call, exactly as a Locust worker shares one hub among its callers. The asyncio side only
waits for a future that the caller thread resolves (`call_soon_threadsafe`), so neither loop ever waits on
the other: a busy asyncio task cannot hold the caller's timers, and a call never holds the program. What
the two threads do share is the GIL: while awaited calls are in flight the interpreter's switch interval
is lowered (CALL_SWITCH_INTERVAL_S), so a CPU-bound program delays a frame by a millisecond, not by the
default 5 ms per system call of the caller thread; what delay remains is in the pacing figures, as ever.
Without monkey-patching, the sockets are made cooperative explicitly (callers/transport/green_connect.py).

Rejected: a thread per call (a hub, a pacer, a render pool and GIL contention per call, where one hub
paces a thousand); a worker subprocess (the brain, judge, writer, event listeners and the CallerAgent
object itself would have to cross a process boundary, and `caller.result` would be a copy).

A program that did monkey-patch gets the same thread: the real one (gevent's original thread start), so
its calls are paced on a hub that the asyncio loop, which then runs on the main hub, never delays.

Leaving: if the awaiting task is cancelled (or `async with` is left while a call is in flight), the call's
greenlet is killed on the caller thread, which ends it the way a stopped Locust run does: the call is hung
up and its `cancelled` result written; the awaiting side waits for that before it lets go.
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import sys
import weakref
from typing import Callable, Optional

import gevent
import gevent.event
import gevent.monkey

from callers.media import native_threads
from callers.results import CallResult

# The real thread primitives even in a patched process (threading's classes then build on gevent's locks).
_start_thread = gevent.monkey.get_original("_thread", "start_new_thread")
_native_lock = gevent.monkey.get_original("_thread", "allocate_lock")
# How long the caller thread may take to start its hub, and to end its calls when the process exits.
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# The interpreter's GIL switch interval while awaited calls are in flight. At the default 5 ms a thread of
# the program that keeps the CPU busy makes the caller thread wait up to that long every time it takes the
# GIL back after a system call, several times per frame: a 20 ms burst every 200 ms on the asyncio side
# put the calls' pacing p99 at 18-36 ms (caller_overloaded). At 1 ms they paced as an idle loop's do.
CALL_SWITCH_INTERVAL_S = 0.001


class _OneShot:
    """A flag one thread sets and another waits for, on a native lock whatever gevent patched."""

    def __init__(self) -> None:
        self._lock = _native_lock()
        self._lock.acquire()

    def set(self) -> None:
        if self._lock.locked():
            self._lock.release()

    def wait(self, timeout: float) -> bool:
        if self._lock.acquire(timeout=timeout):
            self._lock.release()
            return True
        return False


class CallerThread:
    """The thread and hub where awaited calls run; `submit` is safe from any thread."""

    def __init__(self) -> None:
        self._jobs: collections.deque = collections.deque()
        self._ready = _OneShot()
        self._ended = _OneShot()
        self._wake = None
        self._stopping_event: Optional[gevent.event.Event] = None
        self._greenlets: set = set()
        self._switch_interval_before: Optional[float] = None
        _start_thread(self._main, ())
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the caller thread did not start")

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on the caller thread's hub (in its loop: it must not block; spawn to do more)."""
        self._jobs.append(job)
        self._wake.send()

    def spawn(self, function: Callable[[], None]) -> "gevent.Greenlet":
        """From the caller thread: a greenlet for one call, remembered so exiting can end it."""
        greenlet = gevent.spawn(function)
        if not self._greenlets:
            self._switch_interval_before = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval_before, CALL_SWITCH_INTERVAL_S))
        self._greenlets.add(greenlet)
        greenlet.link(self.call_ended)  # also for a greenlet killed before it ever ran
        return greenlet

    def call_ended(self, greenlet: "gevent.Greenlet") -> None:
        """A call is off the books (idempotent): the last one out restores the switch interval. A call calls
        this itself before it tells its awaiting side, so nobody sees the call over and the interval short."""
        self._greenlets.discard(greenlet)
        if not self._greenlets and self._switch_interval_before is not None:
            sys.setswitchinterval(self._switch_interval_before)
            self._switch_interval_before = None

    def stop(self) -> None:
        """End the calls still running (hung up, their results written) and the thread; at process exit."""
        self.submit(self._request_stop)
        self._ended.wait(STOP_TIMEOUT_S)

    def _main(self) -> None:
        hub = gevent.get_hub()
        self._wake = hub.loop.async_()  # keeps the loop alive while it waits for jobs
        self._wake.start(self._run_jobs)
        stopping = self._stopping_event = gevent.event.Event()
        self._ready.set()
        try:
            stopping.wait()
            gevent.killall(list(self._greenlets), timeout=STOP_TIMEOUT_S)
        finally:
            # This hub's native threads are stopped from this thread, or a render or recognition still in
            # flight at exit can crash the interpreter (native_threads.drain_at_exit).
            native_threads.drain_at_exit(weakref.ref(hub))
            self._wake.close()
            self._ended.set()

    def _run_jobs(self) -> None:
        while self._jobs:
            self._jobs.popleft()()

    def _request_stop(self) -> None:
        self._stopping_event.set()


_thread: Optional[CallerThread] = None
_thread_lock = _native_lock()


def caller_thread() -> CallerThread:
    """The process's caller thread, started on first use."""
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = CallerThread()
            atexit.register(_thread.stop)
        return _thread


class AsyncCall:
    """One call running on the caller thread, awaited from an asyncio loop."""

    def __init__(self, run: Callable[[], CallResult]) -> None:
        self._run = run
        self._greenlet: Optional[gevent.Greenlet] = None
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future = self._loop.create_future()
        self._thread = caller_thread()
        self._thread.submit(self._start)

    @property
    def done(self) -> bool:
        return self._done.done()

    async def result(self) -> CallResult:
        """The call's result once it ends; if the awaiting task is cancelled, the call is ended first and
        the cancellation then goes on."""
        try:
            await asyncio.wait({self._done})  # never cancels the call's future, whatever happens here
        except asyncio.CancelledError:
            await self.cancel()
            raise
        return self._done.result()

    async def cancel(self) -> None:
        """End the call (hung up, its `cancelled` result written) and wait until it has ended."""
        if not self._done.done():
            self._thread.submit(self._kill)
            await asyncio.wait({self._done})

    # ---- on the caller thread ----------------------------------------------------------------------------

    def _start(self) -> None:
        self._greenlet = self._thread.spawn(self._body)
        # A call cancelled before its greenlet ran never reaches _body: it is settled as cancelled here (a
        # call that ran has settled first, and a settled future is left as it is).
        self._greenlet.link(lambda _greenlet: self._settle(None, asyncio.CancelledError("call cancelled")))

    def _body(self) -> None:
        result: Optional[CallResult] = None
        error: Optional[BaseException] = None
        try:
            result = self._run()
        except gevent.GreenletExit:
            error = asyncio.CancelledError("call cancelled")
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting side as it is
            error = exc
        self._thread.call_ended(gevent.getcurrent())
        self._settle(result, error)

    def _kill(self) -> None:  # jobs run in order: `_start` has run
        if self._greenlet is not None and not self._greenlet.dead:
            self._greenlet.kill(block=False)

    def _settle(self, result: Optional[CallResult], error: Optional[BaseException]) -> None:
        try:
            self._loop.call_soon_threadsafe(_resolve, self._done, result, error)
        except RuntimeError:  # the awaiting loop is closed: nobody is left to tell
            pass


def _resolve(future: asyncio.Future, result: Optional[CallResult], error: Optional[BaseException]) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    elif isinstance(error, asyncio.CancelledError):
        future.cancel(msg=str(error))
    else:
        future.set_exception(error)
