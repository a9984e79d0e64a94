"""Loading: damaged, empty and multi-file inputs give what is readable and say what was not."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from locust.stats import calculate_response_time_percentile

from reports.load import ReportInputError, describe_skipped, load_calls, load_locust_json
from tests.reference_bridge import REPO_ROOT
from tests.reports.conftest import FIXTURE, FIXTURE_DIR


def damaged_copy(tmp_path):
    """The fixture with a torn line, garbage, an array and a call missing 'success' mixed in."""
    lines = FIXTURE.read_text().splitlines()
    no_success = json.loads(lines[1])
    del no_success["success"]
    mixed = [lines[0], lines[1][:57], lines[2], "}}not json{{", "", lines[3], json.dumps([1, 2]),
             json.dumps(no_success), *lines[4:]]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(mixed) + "\n")
    return path  # readable: fixture lines 1, 3, 4, 5..10 (line 2 is torn and its copy lacks 'success')


def run_reports(*args, cwd=REPO_ROOT):
    return subprocess.run([sys.executable, "-m", "reports", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_damaged_lines_are_skipped_by_number(tmp_path):
    data = load_calls([damaged_copy(tmp_path)])
    assert len(data.calls) == 9
    assert "fixture02" not in set(data.calls["call_id"])
    assert [(item.line, item.reason.split(" ")[0]) for item in data.skipped] == [
        (2, "not"), (4, "not"), (7, "not"), (8, "field")]
    (message,) = describe_skipped(data.skipped)
    assert "4 unreadable lines skipped (line 2, 4, 7, 8)" in message and "'success'" in message


def test_run_directory_reads_every_jsonl_and_counts_duplicates_once(tmp_path):
    lines = FIXTURE.read_text().splitlines()
    (tmp_path / "calls-host-1.jsonl").write_text("\n".join(lines[:6]) + "\n")
    (tmp_path / "calls-host-2.jsonl").write_text("\n".join(lines[5:]) + "\n")  # line 6 in both
    data = load_calls([tmp_path])
    assert len(data.calls) == 10 and data.duplicates == 1
    assert list(data.calls["index"]) == list(range(1, 11))
    assert len(data.sources) == 2


def test_nothing_readable_is_an_input_error(tmp_path):
    empty = tmp_path / "calls.jsonl"
    empty.write_text("")
    with pytest.raises(ReportInputError, match="is empty"):
        load_calls([empty])
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("nope\n{\n")
    with pytest.raises(ReportInputError, match=r"2 unreadable lines skipped \(line 1, 2\)"):
        load_calls([garbage])
    with pytest.raises(ReportInputError, match="no such file"):
        load_calls([tmp_path / "missing"])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ReportInputError, match="no \\*.jsonl"):
        load_calls([tmp_path / "empty_dir"])


def test_cli_reports_what_is_readable_and_warns(tmp_path):
    run = run_reports(damaged_copy(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "4 unreadable lines skipped (line 2, 4, 7, 8)" in run.stderr
    assert run.stdout.startswith("CALLER AGENT BATCH TEST REPORT\n")
    assert "Total Tests: 9" in run.stdout and "DATA QUALITY" in run.stdout


def test_cli_empty_input_exits_2_without_traceback(tmp_path):
    (tmp_path / "calls.jsonl").write_text("\n")
    run = run_reports(tmp_path)
    assert run.returncode == 2
    assert "no calls to report" in run.stderr and "empty" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_cli_with_locust_csv_writes_every_output(tmp_path):
    prefix = tmp_path / "locust"
    (tmp_path / "locust_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,95%,99%\n"
        "TURN,angry_complaint,8,0,300,320,150,900,0,0.5,0,300,870,900\n"
        ",Aggregated,8,0,300,320,150,900,0,0.5,0,300,870,900\n")
    (tmp_path / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%\n"
        "1000,2,,Aggregated,0,0,N/A,N/A,N/A\n1001,2,,Aggregated,1,0,300,800,900\n1002,4,,Aggregated,1,0,310,850,900\n")
    out = tmp_path / "report" / "run"
    run = run_reports(FIXTURE_DIR, "--locust-csv", prefix, "--output", out, "--junit", tmp_path / "junit.xml")
    assert run.returncode == 0, run.stderr
    assert "LOCUST REQUEST STATISTICS" in run.stdout and "angry_complaint" in run.stdout
    assert (tmp_path / "report" / "run_latency_over_time.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((tmp_path / "report" / "run.json").read_text())
    assert report["locust"]["stats"][0]["Name"] == "angry_complaint"
    assert (tmp_path / "junit.xml").exists()
    missing = run_reports(FIXTURE_DIR, "--locust-csv", tmp_path / "nothing")
    assert missing.returncode == 2 and "nothing_stats.csv" in missing.stderr


def test_locust_json_file_becomes_the_csv_shaped_table(tmp_path):
    histogram = {"310": 3, "320": 1, "400": 5, "1100": 1}
    entries = [{"name": "angry_complaint", "method": "TURN", "num_requests": 10, "num_failures": 1,
                "total_response_time": 5230.0, "min_response_time": 310, "max_response_time": 1100,
                "response_times": histogram},
               {"name": "/ws/telephony", "method": "CONNECT", "num_requests": 0, "num_failures": 0,
                "total_response_time": 0, "response_times": {}}]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(entries))
    data = load_locust_json(path)
    turn = data.stats[data.stats["Type"] == "TURN"].iloc[0]
    assert turn["Request Count"] == 10 and turn["Failure Count"] == 1
    assert turn["Average Response Time"] == pytest.approx(523.0)
    as_locust = {int(k): v for k, v in histogram.items()}
    for label, fraction in (("50%", 0.5), ("95%", 0.95), ("99%", 0.99), ("100%", 1.0)):
        assert turn[label] == calculate_response_time_percentile(as_locust, 10, fraction), label
    assert turn["Median Response Time"] == turn["50%"]
    assert data.source == str(path)


def test_a_file_that_is_not_locust_json_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"not": "a list"}')
    with pytest.raises(ReportInputError, match="not a Locust JSON stats file"):
        load_locust_json(path)


def test_a_brain_error_is_the_callers_failure_not_the_agents(tmp_path):
    """The simulated caller's model failing (brain_error) lands with simulator errors, out of the agent's rate."""
    record = json.loads(FIXTURE.read_text().splitlines()[0])
    record.update(success=False, error={"category": "brain_error", "message": "Realtime: 429 rate limited"})
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert list(load_calls([path]).calls["outcome"]) == ["caller_error"]


def test_a_line_without_scenario_type_still_loads(tmp_path):
    lines = FIXTURE.read_text().splitlines()
    untyped = json.loads(lines[0])
    del untyped["scenario_type"]
    empty = json.loads(lines[1])
    empty["scenario_type"] = ""
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join([json.dumps(untyped), json.dumps(empty), lines[2]]) + "\n")
    data = load_calls([path])
    assert not data.skipped
    assert list(data.calls["scenario_type"]) == ["unknown", "unknown", "card_replacement"]
    assert set(data.turns.loc[data.turns["call_id"] == "fixture01", "scenario_type"]) == {"unknown"}
