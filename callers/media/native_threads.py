"""Native threads for the callers' blocking native work (espeak renders, Whisper passes), under gevent.

A greenlet hands such work to a pool thread and waits cooperatively, so the other callers' audio keeps its
pace. Three rules come with it, each learned from a broken run:

- One pool per hub and kind of work, sized to what the engine can do at once (libespeak-ng renders one
  phrase at a time; Whisper runs one pass per model replica): more threads would only queue inside it.
  The threads are the pool's own, never the hub's default pool, whose idle threads exit after a few
  seconds and take their thread's gevent state with them.
- At exit, a job in flight finishes before the interpreter is torn down (a thread still inside
  CTranslate2 or espeak then crashed the process), and jobs still queued are dropped.
- A job must not touch gevent: under monkey-patching, a "thread" started in a job is a greenlet on a new
  hub of the pool thread, and a lock or event it shares with the callers' loop is then used across
  threads ("crossing thread boundaries is not allowed"). Native engines' shared state takes native locks
  (`native_lock`).
"""
from __future__ import annotations

import atexit
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from gevent.threadpool import ThreadPool

T = TypeVar("T")

# How long the exit waits for the jobs in flight: a Whisper pass on a loaded machine takes seconds, and a
# wedged one must not keep the process from ending.
EXIT_WAIT_S = 15.0


class ProcessExiting(RuntimeError):
    """A job that was still queued when the process began to exit, dropped unrun."""


# gevent is imported on first use: the asyncio bridge takes `native_lock` from here and has no use for it.
_POOLS: "weakref.WeakKeyDictionary[object, dict[str, ThreadPool]]" = weakref.WeakKeyDictionary()
_exiting = False


def run_in_thread(kind: str, threads: int, func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` on one of this hub's `kind` threads (at most `threads` of them), waiting cooperatively
    for its result; its exception is raised here."""
    return _pool(kind, threads).apply(_unless_exiting, (func, args))


def native_lock() -> "threading.Lock":
    """An OS lock even when gevent has patched `threading`: for state shared with pool threads, where a
    gevent lock would make the waiting thread run a hub of its own. Held only for native calls of a few
    milliseconds, or in start-up (a greenlet waiting on it holds up its whole loop)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return monkey.get_original("_thread", "allocate_lock")()
    return threading.Lock()


def _unless_exiting(func: Callable[..., T], args: tuple) -> T:
    if _exiting:
        raise ProcessExiting("the process is exiting")
    return func(*args)


def _pool(kind: str, threads: int) -> "ThreadPool":
    import gevent
    from gevent.threadpool import ThreadPool

    hub = gevent.get_hub()
    pools = _POOLS.get(hub)
    if pools is None:
        pools = _POOLS[hub] = {}
        atexit.register(drain_at_exit, weakref.ref(hub))
    pool = pools.get(kind)
    if pool is None:
        pool = pools[kind] = ThreadPool(threads, hub=hub)
    return pool


def drain_at_exit(hub_ref: "weakref.ref") -> None:
    """At exit: drop queued jobs, let the ones in flight finish (bounded), and end the threads before the
    interpreter is torn down under them. A pool is stopped from its own loop's thread only, so a hub that runs
    on a thread of its own (the asyncio bridge's caller thread) calls this there as it ends."""
    import gevent

    global _exiting
    _exiting = True
    hub = hub_ref()
    if hub is None or gevent.get_hub() is not hub:
        return
    with gevent.Timeout(EXIT_WAIT_S, False):
        for pool in list(_POOLS.get(hub, {}).values()):
            pool.kill()
