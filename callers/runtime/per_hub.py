"""One shared instance of a thing per gevent hub (each thread that runs callers has its own hub), made on
first use: the pacer, the read sweep and the loop-lag probe each drive one hub's timers and greenlets."""
from __future__ import annotations

import weakref
from typing import Callable, TypeVar

import gevent

T = TypeVar("T")


def one_per_hub(make: Callable[[], T]) -> Callable[[], T]:
    """A getter that returns the current hub's instance, calling `make` the first time on each hub."""
    instances: "weakref.WeakKeyDictionary[object, T]" = weakref.WeakKeyDictionary()

    def current() -> T:
        hub = gevent.get_hub()
        instance = instances.get(hub)
        if instance is None:
            instance = instances[hub] = make()
        return instance

    return current
