"""JUnit XML for CI systems: one testcase per call, so a CI's test view lists every caller and why it failed.

Mapping: classname = scenario, name = personality + the call's number in the run (unique, so CI systems that
merge same-named cases keep every call). An agent failure is a <failure> (type = error category, or
"goal_not_met" with the unmet criteria in the message); a caller-side error is an <error> of its own category
(simulator_error, brain_error), JUnit's word for "the test itself broke", which keeps it apart from the agent's
failures; a cancelled call, and one whose caller was not prepared for what the agent asked, is <skipped>.
Which is which is callers.outcome's rule (the calls' outcome column).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Union

import pandas as pd

from reports.load import AGENT_FAILURE, CALLER_ERROR, CANCELLED, NOT_PREPARED
from reports.stats import records
from reports.text import why

SUITE_NAME = "caller-agent"
GOAL_NOT_MET_TYPE = "goal_not_met"


def junit_tree(calls: pd.DataFrame) -> ET.ElementTree:
    outcomes = calls["outcome"]
    counts = {"tests": len(calls), "failures": int((outcomes == AGENT_FAILURE).sum()),
              "errors": int((outcomes == CALLER_ERROR).sum()),
              "skipped": int(outcomes.isin((CANCELLED, NOT_PREPARED)).sum()),
              "time": f"{calls['duration_s'].sum():.3f}"}
    root = ET.Element("testsuites", name=SUITE_NAME, **{key: str(value) for key, value in counts.items()})
    suite = ET.SubElement(root, "testsuite", name=SUITE_NAME, timestamp=calls["started_at"].min().isoformat(),
                          **{key: str(value) for key, value in counts.items()})
    for _, call in records(calls):
        case = ET.SubElement(suite, "testcase", classname=call["scenario"],
                             name=f"{call['personality']} #{call['index']}", time=f"{call['duration_s']:.3f}")
        reason = why(call)
        if call["outcome"] == AGENT_FAILURE:
            ET.SubElement(case, "failure", type=call["error_category"] or GOAL_NOT_MET_TYPE, message=reason)
        elif call["outcome"] == CALLER_ERROR:
            ET.SubElement(case, "error", type=call["error_category"], message=reason)
        elif call["outcome"] in (CANCELLED, NOT_PREPARED):
            ET.SubElement(case, "skipped", message=reason)
        ET.SubElement(case, "system-out").text = _details(call)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(calls: pd.DataFrame, path: Union[str, Path]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(calls).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _details(call: dict) -> str:
    return (f"call_id={call['call_id']} caller={call['caller_name']} turns={call['turns']} "
            f"goals={call['goals_achieved']}/{call['goals_total']} end={call['end_reason']}")
