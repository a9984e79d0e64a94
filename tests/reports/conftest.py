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

from pathlib import Path

import pytest

from reports.load import load_calls
from reports.stats import Analysis, analyse

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
FIXTURE = FIXTURE_DIR / "calls.jsonl"


@pytest.fixture(scope="session")
def analysis() -> Analysis:
    return analyse(load_calls([FIXTURE]))
