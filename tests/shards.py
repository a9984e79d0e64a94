"""Run the suite as several pytest processes that share its modules out as they go.

Most of the suite's wall time is real-time calls waiting on audio clocks: a serial run keeps about a third
of one core busy. Two processes on two cores therefore nearly halve the time, where pytest-xdist cannot be
used at all: its workers talk to the controller through threads, and the gevent monkey-patching every test
process needs (tests/conftest.py) turns those threads' locks into greenlet locks, which hangs the worker.

Work is shared by module, not by test, so a module's fixtures (a bridge, a loaded recognizer, a fault
matrix's calls) are built once. Every process collects the whole suite; a process claims a module by
creating a file named after it in a directory all processes share (O_EXCL: exactly one wins), runs it, and
claims the next. Modules with slow tests are offered first, so the last ones handed out are short and the
processes finish close together.

`python -m tests.shards [--processes N] [pytest args...]` runs the processes, prints each one's output when
it ends, and exits non-zero if any of them did, or if any test collected was not run exactly once (each
process leaves a ledger of what it collected and ran). A plain `pytest` run is untouched.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import pytest

CLAIMS_OPTION = "--claims-dir"
# Beyond this, the suite's few longest tests set its wall time and more processes only contend.
MAX_PROCESSES = 4
SLOW_MARK = "slow"
LEDGER_GLOB = "ledger-*.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(CLAIMS_OPTION, default=None,
                     help="share the suite's modules with other pytest processes through this directory")


def _modules_slowest_first(items: list) -> list[tuple[str, list]]:
    """(module, its items in collection order), modules with more slow tests first."""
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    return sorted(modules.items(),
                  key=lambda module: -sum(1 for item in module[1] if item.get_closest_marker(SLOW_MARK)))


def _claim(claims: Path, module: str) -> bool:
    name = hashlib.sha1(module.encode()).hexdigest()
    try:
        os.close(os.open(claims / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Optional[bool]:
    """pytest's own loop over the items, restricted to the modules this process claims."""
    claims_dir = session.config.getoption(CLAIMS_OPTION)
    if claims_dir is None or session.config.option.collectonly:
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} "
                                  "during collection")
    claims = Path(claims_dir)
    offered = iter(_modules_slowest_first(session.items))

    def claim_next() -> list:
        for module, group in offered:
            if _claim(claims, module):
                return group
        return []

    ran: list[str] = []
    try:
        _run_claimed(session, claim_next, ran)
    finally:
        ledger = {"collected": [item.nodeid for item in session.items], "ran": ran}
        (claims / LEDGER_GLOB.replace("*", str(os.getpid()))).write_text(json.dumps(ledger))
    return True


def _run_claimed(session: pytest.Session, claim_next, ran: list[str]) -> None:
    group = claim_next()
    while group:
        following: list = []
        for index, item in enumerate(group):
            if index + 1 < len(group):
                next_item = group[index + 1]
            else:  # claimed before this item ends, so fixtures the next module shares are kept
                following = claim_next()
                next_item = following[0] if following else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=next_item)
            ran.append(item.nodeid)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
        group = following


def check_ledgers(claims: Path) -> tuple[int, list[str]]:
    """How many tests ran, and what is wrong: a test no process ran, or one that ran twice."""
    ledgers = [json.loads(path.read_text()) for path in sorted(claims.glob(LEDGER_GLOB))]
    if not ledgers:
        return 0, ["no pytest process left a ledger"]
    collected = set(ledgers[0]["collected"])
    ran = [nodeid for ledger in ledgers for nodeid in ledger["ran"]]
    problems = [f"collected differently by two processes ({len(collected)} and {len(ledger['collected'])} tests)"
                for ledger in ledgers[1:] if set(ledger["collected"]) != collected]
    problems += [f"not run: {nodeid}" for nodeid in sorted(collected - set(ran))]
    problems += [f"run {times} times: {nodeid}" for nodeid, times in Counter(ran).items() if times > 1]
    return len(ran), problems


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.shards", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=min(os.cpu_count() or 1, MAX_PROCESSES),
                        help="pytest processes to run at once (default: one per core, at most %(default)s)")
    args, pytest_args = parser.parse_known_args(argv)
    processes = max(1, args.processes)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="test-shards-") as work:
        claims = Path(work, "claims")
        claims.mkdir()
        logs = [Path(work, f"process-{index}.log") for index in range(processes)]
        running = []
        for index, log in enumerate(logs):
            command = [sys.executable, "-m", "pytest", f"{CLAIMS_OPTION}={claims}",
                       f"--basetemp={Path(work, f'tmp-{index}')}", *pytest_args]
            with open(log, "wb") as out:
                running.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
        print(f"running the tests in {processes} pytest processes sharing modules", flush=True)
        codes: dict[int, int] = {}
        try:
            while len(codes) < processes:
                for index, process in enumerate(running):
                    if index not in codes and process.poll() is not None:
                        codes[index] = process.returncode
                        print(f"\n===== pytest process {index + 1} of {processes}: exit {process.returncode} "
                              f"after {time.monotonic() - started:.0f} s =====", flush=True)
                        sys.stdout.write(logs[index].read_text(errors="replace"))
                        sys.stdout.flush()
                time.sleep(0.2)
        except KeyboardInterrupt:
            for process in running:
                process.terminate()
            for process in running:
                process.wait()
            return 130
        failed = [code for code in codes.values() if code != 0]
        ran, problems = check_ledgers(claims)
    elapsed = time.monotonic() - started
    if failed:
        print(f"\n===== {processes} pytest processes done in {elapsed:.0f} s: {len(failed)} failed =====")
        return failed[0]
    if problems:
        print(f"\n===== {processes} pytest processes passed, but the tests were not shared out exactly once: "
              f"=====\n" + "\n".join(problems[:50]))
        return 1
    print(f"\n===== {processes} pytest processes done in {elapsed:.0f} s: {ran} tests, each run once, "
          "all passed =====")
    return 0


if __name__ == "__main__":
    sys.exit(main())
