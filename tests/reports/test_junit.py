"""JUnit XML: one testcase per call, failures say why."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from reports.junit import write_junit


def test_one_testcase_per_call_with_reasons(analysis, tmp_path):
    root = ET.parse(write_junit(analysis.calls, tmp_path / "junit.xml")).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("10", "2", "1", "1")
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 10
    assert len({case.get("name") for case in cases}) == 10
    first = cases[0]
    assert (first.get("classname"), first.get("name"), first.get("time")) == ("normal_account_inquiry", "normal #1",
                                                                              "30.000")
    assert first.find("failure") is None and first.find("error") is None
    goal = cases[6].find("failure")
    assert goal.get("type") == "goal_not_met" and "resolution plan provided" in goal.get("message")
    silent = cases[7].find("failure")
    assert silent.get("type") == "no_answer" and "agent silent" in silent.get("message")
    assert cases[4].find("error").get("type") == "simulator_error"
    assert cases[9].find("skipped") is not None
