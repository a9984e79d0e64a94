"""The end of a Locust run on the process that judges it: the goal summary, goals.json (and capacity.json),
and the exit code from the CI gate or the capacity search.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional

from locust.stats import StatsEntry

from loadtest import capacity, goals, hostcheck

log = logging.getLogger("caller_agent.locust")


def turn_p95_ms(environment: Any) -> Optional[float]:
    """p95 of TURN response times over every scenario, from Locust's own stats."""
    combined = StatsEntry(environment.stats, "TURN", "TURN")
    for (_name, method), entry in list(environment.stats.entries.items()):
        if method == "TURN":
            combined.extend(entry)
    return float(combined.get_response_time_percentile(0.95)) if combined.num_requests else None


def judge(environment: Any, counters: goals.GoalCounters, workers: dict[str, goals.Snapshot],
          missing: list[str], search: Optional[capacity.CapacitySearch]) -> None:
    """Print the summary, write the files and set the exit code for a run whose counts are all in."""
    options = environment.parsed_options
    p95 = turn_p95_ms(environment)
    print("\n" + goals.summary_text(counters, p95), flush=True)
    run = {"bridge": hostcheck.public_url(environment.host or ""), "test_config": options.test_config}
    if search is None:
        label = "CI gate"
        judged = options.success_threshold > 0 or options.max_p95_turn_ms > 0
        reasons = goals.gate_reasons(counters.total, options.success_threshold, p95, options.max_p95_turn_ms)
        gate = {"success_threshold": options.success_threshold, "max_p95_turn_ms": options.max_p95_turn_ms,
                "p95_turn_ms": p95, "passed": not reasons, "reasons": reasons}
    else:
        # The thresholds were each step's targets; the whole run (its last step missed one, by design) is not
        # judged against them again. The search fails only when not even its first step met both.
        label = "capacity search"
        judged = True
        reasons = [] if search.capacity is not None else [search.verdict()]
        print("\n" + search.table_text(), flush=True)
        write_json(Path(options.results_dir) / "capacity.json", {**run, **search.report()})
        gate = {"capacity_users": search.capacity, "targets": search.report()["targets"], "p95_turn_ms": p95,
                "passed": not reasons, "reasons": reasons}
    write_json(Path(options.results_dir) / "goals.json", {
        **run, "results_dir": options.results_dir, **counters.to_dict(), "gate": gate,
        "workers": {worker_id: {"final": snapshot.final, "seq": snapshot.seq}
                    for worker_id, snapshot in workers.items()},
        "workers_without_final_report": missing})
    if judged:
        if reasons:
            for reason in reasons:
                print(f"{label} FAILED: {reason}", file=sys.stderr, flush=True)
            environment.process_exit_code = 1
        else:
            print(f"{label} passed", flush=True)
            if not environment.runner.exceptions:
                environment.process_exit_code = 0  # failed calls within the targets do not fail the run


def write_json(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        log.error("cannot write %s: %s", path, exc)
