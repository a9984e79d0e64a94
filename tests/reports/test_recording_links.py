"""Recorded calls (--record) are linked from every report; unrecorded runs show no such section."""
from __future__ import annotations

import json

from reports.json_report import report_dict
from reports.load import load_calls
from reports.publish import write_outputs
from reports.stats import analyse
from reports.text import render_report
from tests.reports.conftest import FIXTURE


def recorded_run(tmp_path):
    """The fixture run moved to tmp_path/run, its first call recorded in run/recordings/."""
    lines = FIXTURE.read_text().splitlines()
    first = json.loads(lines[0])
    first["recording"] = {kind: f"recordings/{first['call_id']}.{kind}" for kind in ("wav", "json", "txt")}
    run = tmp_path / "run"
    run.mkdir()
    (run / "calls.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    return analyse(load_calls([run])), run / "recordings" / first["call_id"]


def test_reports_link_a_recorded_call_by_paths_resolved_from_the_calls_file(tmp_path):
    analysis, stem = recorded_run(tmp_path)
    text = render_report(analysis)
    assert "RECORDINGS" in text and f"{stem}.wav" in text and f"{stem}.txt" in text
    (call,) = [c for c in report_dict(analysis)["calls"] if c["recording"]]
    assert call["recording"] == {kind: f"{stem}.{kind}" for kind in ("wav", "json", "txt")}
    write_outputs(analysis, tmp_path / "reports" / "r")
    page = (tmp_path / "reports" / "r.html").read_text()
    assert f'<a href="../run/recordings/{stem.name}.wav">recording</a>' in page
    assert f'<a href="../run/recordings/{stem.name}.txt">transcript</a>' in page


def test_a_run_without_recordings_has_no_recordings_section(analysis):
    assert "RECORDINGS" not in render_report(analysis)
    assert all(call["recording"] is None for call in report_dict(analysis)["calls"])
