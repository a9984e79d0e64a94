"""bench/worker_stalls.py: each loop stall the probe recorded is put down to the right cause, and each flagged
turn to the stall it was spoken through; without running Locust."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import worker_stalls  # noqa: E402

OURS = "callers/call/agent.py:257 run"


def probe(*wakes, gc=(), samples=()) -> dict:
    return {"wakes": list(wakes), "gc": list(gc), "samples": list(samples)}


def cause(record: dict) -> str:
    (stall,) = worker_stalls.attribute(record)
    return stall["cause"]


def test_a_stall_is_put_down_to_what_took_the_time():
    # (woke at s, late ms, main thread ran ms, waited for a CPU ms, {other thread: ran ms})
    assert cause(probe((5.0, 20.0, 2.0, 18.0, {}))) == "descheduled"
    assert cause(probe((5.0, 20.0, 1.0, 0.5, {"41 python": 17.0}))) == "thread python (the GIL)"
    assert cause(probe((5.0, 20.0, 21.0, 0.5, {}), gc=[(4.980, 2, 15.0, 300)])) == "gc"
    stack = ["locust/user/task.py:513 execute_task", "loadtest/run.py:127 place_call", OURS,
             "/usr/lib/python3.11/uuid.py:723 uuid4", "[other thread] callers/media/speech.py:168 synthesize"]
    assert cause(probe((5.0, 20.0, 21.0, 0.5, {}), samples=[(4.99, 15.0, stack)])) == OURS
    assert cause(probe((5.0, 20.0, 21.0, 0.5, {}))) == "main thread ran (no stack)"
    assert cause(probe((5.0, 20.0, 1.0, 0.5, {}))) == "unseen"


def test_samples_outside_a_stall_do_not_name_it():
    far = [(1.0, 15.0, [OURS])]
    assert cause(probe((5.0, 20.0, 21.0, 0.5, {}), samples=far)) == "main thread ran (no stack)"


def test_a_flagged_turn_is_matched_with_the_worst_stall_while_it_was_spoken(tmp_path):
    origin = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc).timestamp()
    call = {"call_id": "c1", "started_at": "2026-12-07T15:00:10.000+00:00", "error": None, "turn_records": [
        {"caller_speech_start": 1.0, "caller_speech_end": 3.0, "pacing_p99_ms": 18.0, "caller_overloaded": True},
        {"caller_speech_start": 5.0, "caller_speech_end": 6.0, "pacing_p99_ms": 2.0, "caller_overloaded": False}]}
    (tmp_path / "calls.jsonl").write_text(json.dumps(call) + "\n", encoding="utf-8")
    stalls = [{"at_s": 11.5, "ms": 12.0, "cause": "descheduled"}, {"at_s": 12.0, "ms": 30.0, "cause": OURS},
              {"at_s": 15.5, "ms": 90.0, "cause": "gc"}]
    (turn,) = worker_stalls.flagged_turns(tmp_path, origin, stalls)
    assert turn["spoken_s"] == [11.0, 13.0] and turn["pacing_p99_ms"] == 18.0
    assert turn["stall"] == {"at_s": 12.0, "ms": 30.0, "cause": OURS} and turn["cancelled"] is False


def test_stalls_are_summed_by_cause_worst_first():
    stalls = [{"cause": "gc", "ms": 12.0}, {"cause": OURS, "ms": 20.0}, {"cause": OURS, "ms": 15.0}]
    assert worker_stalls.summarise(stalls) == {OURS: {"count": 2, "total_ms": 35.0, "max_ms": 20.0},
                                               "gc": {"count": 1, "total_ms": 12.0, "max_ms": 12.0}}
