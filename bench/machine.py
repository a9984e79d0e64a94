"""What a figure was measured on: CPU model, cores, load, date, speed. Every bench prints it with its figures,
because a capacity or latency number means nothing without the machine and how busy it was.

The speed is a fixed piece of pure-Python work, timed: on a shared VM the same code ran at half speed
for seconds at a time, and under sustained load (the load average shows none of it), so a figure is read
against the speed measured beside it."""
from __future__ import annotations

import os
import platform
import time
from typing import Optional

SPEED_LOOPS = 200_000
SPEED_TRIES = 3
# With `--pin`: the caller process on a core of its own, the stand-in servers (sink, bridge) on the other.
CALLER_CPU, SERVER_CPU = 0, 1


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def speed_ms() -> float:
    """Milliseconds for a fixed interpreter workload (calls, attributes, dicts, bytes; 35-40 ms on an
    idle 2026 Xeon VM core, 65-80 ms when its host is busy), best of a few tries: lower is faster."""
    class Counter:
        def __init__(self) -> None:
            self.total = 0

        def add(self, value: int) -> None:
            self.total += value

    best = float("inf")
    for _ in range(SPEED_TRIES):
        counter, table, started = Counter(), {}, time.perf_counter()
        for index in range(SPEED_LOOPS):
            table[index & 1023] = b"x" * (index & 63)
            counter.add(len(table[index & 1023]))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000.0, 2)


def pin_to(cpu: Optional[int]) -> None:
    """Keep this process on one CPU (None leaves it free), where the OS can (Linux)."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def describe() -> dict:
    """The machine, its load right now (1, 5, 15 minute load averages) and its speed (`speed_ms`)."""
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg": load_average(), "speed_ms": speed_ms()}
