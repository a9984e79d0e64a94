"""one_per_hub: one instance per gevent hub, made on first use."""
from __future__ import annotations

import gevent

from callers.runtime.per_hub import one_per_hub


def test_each_hub_gets_its_own_instance_made_once():
    made = []
    current = one_per_hub(lambda: made.append(object()) or made[-1])
    assert current() is current() is made[0]
    seen = gevent.get_hub().threadpool.apply(lambda: (current(), current()))  # a native thread: another hub
    assert seen[0] is seen[1] is made[1] and len(made) == 2
