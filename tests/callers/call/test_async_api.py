"""The seed's async API as an asyncio user runs it: a script that patches nothing, in its own process,
dialling a real reference bridge. Its loop must keep running during a call, gathered callers must talk at
the same time, and leaving a call early (a cancelled task, an exception in `async with`) must end it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from callers.results import read_results
from callers.runtime.async_call import CALL_SWITCH_INTERVAL_S
from tests.callers.call.test_agent import assert_latencies_match_truth, truth_for
from tests.reference_bridge import REPO_ROOT, launch_bridge
from tests.tls_certs import make_self_signed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

TICK_S = 0.1
# A loop that keeps running wakes its ticker about every TICK_S; a call holding the loop shows as one long gap.
MAX_TICK_GAP_S = 0.5
# When the script leaves a call early, and how soon the call must then be over (hung up, result written).
LEAVE_AFTER_S = 3.0
ENDED_WITHIN_S = 5.0
SCRIPT_TIMEOUT_S = 150.0
DEFAULT_SWITCH_INTERVAL_S = 0.005  # CPython's

USER_SCRIPT = textwrap.dedent('''
    """An asyncio program using the seed's API; no gevent monkey-patching anywhere."""
    import asyncio
    import json
    import sys
    import time

    from callers import CallerAgent, ResultWriter, load_scenarios
    from callers.transport import tls

    URL, MODE, RESULTS = sys.argv[1], sys.argv[2], sys.argv[3]
    TICK_S, LEAVE_AFTER_S = float(sys.argv[4]), float(sys.argv[5])
    CA_FILE = sys.argv[6] if len(sys.argv) > 6 else None


    def make_caller(name, seed):
        entry = load_scenarios().custom_entry("impatient", "general_inquiry", None)
        return CallerAgent(URL, entry.personality, entry.scenario, caller_name=name, seed=seed, ear="alttext",
                           writer=ResultWriter(RESULTS), sslopt=tls.client_sslopt(CA_FILE))


    def span(caller, success=None):
        result = caller.result
        return {"call_id": result.call_id, "success": success, "start": result.t0_monotonic,
                "end": result.t0_monotonic + result.duration_s,
                "error": result.error and {"category": result.error.category, "message": result.error.message}}


    async def one():
        caller = make_caller("Ticked", 6)
        async with caller:
            success = await caller.start_call(timeout=60.0)
        return [span(caller, success)]


    async def two():
        async def call(name, seed):
            caller = make_caller(name, seed)
            async with caller:
                success = await caller.start_call(timeout=60.0)
            return span(caller, success)
        return list(await asyncio.gather(call("First", 7), call("Second", 8)))


    async def cancel():
        caller = make_caller("Cancelled", 9)

        async def talk():
            async with caller:
                await caller.start_call(timeout=60.0)

        task = asyncio.create_task(talk())
        await asyncio.sleep(LEAVE_AFTER_S)
        left = time.monotonic()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return [dict(span(caller), left=left, over=time.monotonic(), task_cancelled=task.cancelled())]


    async def leave():
        caller = make_caller("Left", 10)
        try:
            async with caller:
                running = asyncio.ensure_future(caller.start_call(timeout=60.0))
                await asyncio.sleep(LEAVE_AFTER_S)
                left = time.monotonic()
                raise RuntimeError("the program failed mid-call")
        except RuntimeError:
            over = time.monotonic()
        await asyncio.sleep(0)
        return [dict(span(caller), left=left, over=over, task_cancelled=running.cancelled())]


    async def main():
        ticks, switch_intervals = [], set()

        async def ticker():
            while True:
                ticks.append(time.monotonic())
                switch_intervals.add(sys.getswitchinterval())
                await asyncio.sleep(TICK_S)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        calls = await {"one": one, "tls": one, "two": two, "cancel": cancel, "leave": leave}[MODE]()
        ticking.cancel()
        print(json.dumps({"calls": calls, "ticks": ticks, "switch_intervals": sorted(switch_intervals),
                          "switch_interval_after": sys.getswitchinterval()}))


    asyncio.run(main())
''')


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    truth = tmp_path_factory.mktemp("async-bridge") / "truth.jsonl"
    process = launch_bridge("--truth-log", str(truth), "--voice-rate", "450", ear="none")
    yield process.url, truth
    process.stop()


@pytest.fixture(scope="module")
def tls_bridge(tmp_path_factory):
    certificate = make_self_signed(tmp_path_factory.mktemp("async-tls"))
    process = launch_bridge("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key),
                            "--voice-rate", "450", ear="none")
    yield process.url, certificate.cert
    process.stop()


@pytest.fixture(scope="module")
def runs(bridge, tls_bridge, tmp_path_factory) -> dict[str, dict]:
    """Every mode of the user script at once, each in its own process (as a user would run it)."""
    root = tmp_path_factory.mktemp("async-user")
    script = root / "user.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    env = {**_base_env(), "PYTHONPATH": str(REPO_ROOT)}
    started = {}
    for mode in ("one", "tls", "two", "cancel", "leave"):
        results = root / f"{mode}.jsonl"
        target = [tls_bridge[0], str(tls_bridge[1])] if mode == "tls" else [bridge[0]]
        command = [sys.executable, str(script), target[0], mode, str(results), str(TICK_S), str(LEAVE_AFTER_S),
                   *target[1:]]
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[mode] = (proc, results)
    finished = {}
    for mode, (proc, results) in started.items():
        try:
            stdout, stderr = proc.communicate(timeout=SCRIPT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        assert proc.returncode == 0, f"{mode}: {stderr[-3000:]}"
        finished[mode] = {**json.loads(stdout.strip().splitlines()[-1]), "results": results, "stderr": stderr}
    return finished


def _base_env() -> dict:
    """The test's environment, less a BRIDGE_TOKEN from the developer's shell."""
    return {key: value for key, value in os.environ.items() if key != "BRIDGE_TOKEN"}


def assert_ticked_throughout(run: dict) -> dict:
    """The run's one call succeeded, and its program's ticker kept ticking all through it; the call."""
    [call] = run["calls"]
    assert call["success"] is True, call
    ticks = [t for t in run["ticks"] if call["start"] <= t <= call["end"]]
    duration = call["end"] - call["start"]
    assert duration > 5.0
    edges = [call["start"], *ticks, call["end"]]
    gaps = [later - earlier for earlier, later in zip(edges, edges[1:])]
    assert max(gaps) < MAX_TICK_GAP_S, max(gaps)
    assert len(ticks) >= 0.8 * duration / TICK_S, (len(ticks), duration)
    return call


def test_the_program_keeps_running_during_a_call_that_succeeds(runs, bridge) -> None:
    run = runs["one"]
    call = assert_ticked_throughout(run)
    # As accurate as a call run the synchronous way: its latencies agree with the bridge's own log.
    [result] = read_results(run["results"])
    assert result.call_id == call["call_id"] and result.success
    assert_latencies_match_truth(result, truth_for(bridge[1], result.call_id))
    # The GIL is handed over often while the call is in flight (callers/runtime/async_call.py), and no longer after.
    assert run["switch_intervals"] == [CALL_SWITCH_INTERVAL_S, DEFAULT_SWITCH_INTERVAL_S]
    assert run["switch_interval_after"] == DEFAULT_SWITCH_INTERVAL_S


def test_a_wss_call_trusting_a_ca_file_keeps_the_program_running_too(runs) -> None:
    """Unpatched, TLS is gevent's too (callers/transport/green_connect.py): its reads never hold the caller thread."""
    run = runs["tls"]
    call = assert_ticked_throughout(run)
    [result] = read_results(run["results"])
    assert result.call_id == call["call_id"] and result.bridge.startswith("wss://") and result.turns >= 2


def test_gathered_callers_talk_at_the_same_time(runs) -> None:
    run = runs["two"]
    first, second = run["calls"]
    assert first["success"] is True and second["success"] is True, run["calls"]
    assert first["start"] < second["end"] and second["start"] < first["end"], run["calls"]
    overlap = min(first["end"], second["end"]) - max(first["start"], second["start"])
    assert overlap > 0.5 * min(first["end"] - first["start"], second["end"] - second["start"])
    written = {result.call_id: result for result in read_results(run["results"])}
    assert set(written) == {first["call_id"], second["call_id"]}
    assert all(result.success and result.turns >= 2 for result in written.values())


@pytest.mark.parametrize("mode", ["cancel", "leave"])
def test_leaving_early_ends_the_call_and_writes_its_result(runs, bridge, mode) -> None:
    """A cancelled task, or an exception inside `async with` with the call in flight: the call is hung up
    and its `cancelled` result written before the program goes on."""
    run = runs[mode]
    [call] = run["calls"]
    assert call["error"]["category"] == "cancelled", call
    assert call["task_cancelled"] is True
    assert call["left"] <= call["end"] <= call["over"] < call["left"] + ENDED_WITHIN_S, call
    [result] = read_results(run["results"])
    assert result.call_id == call["call_id"] and result.error_category == "cancelled"
    assert truth_for(bridge[1], call["call_id"])["hung_up_by"] == "caller"  # session.end, not a dropped socket
