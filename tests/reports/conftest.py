"""The hand-made run every report test starts from: tests/reports/fixtures/calls.jsonl.

Ten calls, started in this order (offsets in seconds from 10:00:00 UTC), three personalities and three
scenarios, every scenario entry placed twice (a `--repeat 2` run):

 #  start  personality  scenario                            outcome            duration  turn latencies (ms)
 1      0  normal       normal_account_inquiry              success            30        200 300 400 500
 2      5  angry        angry_complaint                     success            50        250 350 450
 3     10  elderly      confused_elderly_card_replacement   success            70        600 700
 4     15  normal       angry_complaint                     success            40        150 250
 5     20  elderly      normal_account_inquiry              simulator_error    12        (9000: not trusted)
 6     60  normal       normal_account_inquiry              success            35        220 320
 7     65  angry        angry_complaint                     failed, goal not   45        800 900
                                                            met (resolution plan provided)
 8     70  elderly      confused_elderly_card_replacement   failed, no_answer  25        1000, unanswered
 9     75  normal       angry_complaint                     success            38        180
10     80  elderly      normal_account_inquiry              cancelled           5        -
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.load import load_calls
from reports.stats import Analysis, analyse

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
FIXTURE = FIXTURE_DIR / "calls.jsonl"


@pytest.fixture(scope="session")
def analysis() -> Analysis:
    return analyse(load_calls([FIXTURE]))


# The same ten calls as a run where scenario ids and types differ: two scenario ids share the complaint type and
# two the card_replacement type, and the last call is a line without a scenario_type (written by hand or by an
# older tool). Types: account_inquiry 1 5 6; card_replacement 3 8; complaint 2 4 7 9; unknown 10.
MIXED_SCENARIOS = {"fixture04": "billing_dispute", "fixture09": "billing_dispute", "fixture08": "lost_card_replacement"}
UNTYPED_CALL = "fixture10"


def mixed_types_lines() -> list[str]:
    lines = []
    for line in FIXTURE.read_text().splitlines():
        record = json.loads(line)
        record["scenario"] = MIXED_SCENARIOS.get(record["call_id"], record["scenario"])
        if record["call_id"] == UNTYPED_CALL:
            del record["scenario_type"]
        lines.append(json.dumps(record))
    return lines


@pytest.fixture(scope="session")
def mixed(tmp_path_factory) -> Analysis:
    path = tmp_path_factory.mktemp("mixed") / "calls.jsonl"
    path.write_text("\n".join(mixed_types_lines()) + "\n")
    return analyse(load_calls([path]))
