"""The suite's parallel runner, on a small suite of its own: every test runs once, fixtures are not rebuilt."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.shards import check_ledgers

REPO = Path(__file__).resolve().parents[1]
MODULE = '''
import os, time
import pytest
{mark}

@pytest.fixture(scope="module")
def built():
    with open(os.environ["SHARDS_LOG"], "a") as log:
        log.write(f"setup {{__name__}} {{os.getpid()}}\\n")

@pytest.mark.parametrize("case", range(3))
def test_case(built, case):
    with open(os.environ["SHARDS_LOG"], "a") as log:
        log.write(f"ran {{__name__}}:{{case}} {{os.getpid()}}\\n")
    time.sleep(0.3)
    assert {passes}
'''


def _suite(root: Path, failing: str = "") -> None:
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\nmarkers =\n    slow: slow\n")
    (root / "conftest.py").write_text("from tests.shards import pytest_addoption, pytest_runtestloop  # noqa\n")
    for name in ("test_a", "test_b", "test_slow", "test_d"):
        mark = "pytestmark = pytest.mark.slow" if name == "test_slow" else ""
        passes = "case != 1" if name == failing else "True"
        (root / f"{name}.py").write_text(textwrap.dedent(MODULE.format(mark=mark, passes=passes)))


def _run(root: Path) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    log = root / "shards.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHARDS_LOG": str(log)}
    done = subprocess.run([sys.executable, "-m", "tests.shards", "--processes", "2", "-q"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    return done, [line.split() for line in log.read_text().splitlines()]


def test_two_processes_share_the_modules_and_run_each_test_once(tmp_path: Path) -> None:
    _suite(tmp_path)
    done, entries = _run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [entry[1] for entry in entries if entry[0] == "ran"]
    assert sorted(ran) == sorted(f"{module}:{case}" for module in ("test_a", "test_b", "test_slow", "test_d")
                                 for case in range(3))
    setups = [entry[1] for entry in entries if entry[0] == "setup"]
    assert sorted(setups) == ["test_a", "test_b", "test_d", "test_slow"]  # a module's fixture is built once
    pids = {entry[2] for entry in entries}
    assert len(pids) == 2  # both processes did work
    first_by_process = {pid: next(entry[1] for entry in entries if entry[2] == pid and entry[0] == "ran")
                        for pid in pids}
    assert "test_slow:0" in first_by_process.values()  # the module with slow tests is handed out first
    assert done.stdout.count(" passed in ") == 2
    assert "2 pytest processes done" in done.stdout and "12 tests, each run once, all passed" in done.stdout


def test_a_failure_in_one_process_fails_the_run_and_is_shown(tmp_path: Path) -> None:
    _suite(tmp_path, failing="test_b")
    done, entries = _run(tmp_path)
    assert done.returncode == 1
    assert "test_b.py::test_case[1]" in done.stdout and "1 failed" in done.stdout
    assert len([entry for entry in entries if entry[0] == "ran"]) == 12  # the other tests still ran


def _ledger(claims: Path, pid: int, collected: list[str], ran: list[str]) -> None:
    (claims / f"ledger-{pid}.json").write_text(json.dumps({"collected": collected, "ran": ran}))


def test_the_ledgers_catch_a_test_nobody_ran_and_one_run_twice(tmp_path: Path) -> None:
    suite = ["m.py::a", "m.py::b", "n.py::c"]
    _ledger(tmp_path, 1, suite, ["m.py::a", "m.py::b"])
    _ledger(tmp_path, 2, suite, ["m.py::b"])
    ran, problems = check_ledgers(tmp_path)
    assert ran == 3
    assert problems == ["not run: n.py::c", "run 2 times: m.py::b"]
    _ledger(tmp_path, 2, suite, ["n.py::c"])
    assert check_ledgers(tmp_path) == (3, [])
    _ledger(tmp_path, 3, suite[:2], [])
    assert check_ledgers(tmp_path)[1] == ["collected differently by two processes (3 and 2 tests)"]


def test_no_ledger_at_all_is_a_problem(tmp_path: Path) -> None:
    assert check_ledgers(tmp_path) == (0, ["no pytest process left a ledger"])
