"""The HTML page stands alone: tables and charts inside one file."""
from __future__ import annotations

import base64
import re
from dataclasses import replace

from reports.html import render_html
from reports.publish import write_outputs


def test_page_has_tables_and_inline_charts(analysis, tmp_path):
    written = write_outputs(analysis, tmp_path / "out" / "run1")
    names = sorted(path.name for path in written)
    assert names == sorted(["run1.json", "run1.txt", "run1.html", "run1_success_by_personality.png",
                            "run1_success_by_scenario_type.png", "run1_success_by_scenario.png",
                            "run1_turn_latency.png", "run1_goals_by_scenario.png"])
    page = (tmp_path / "out" / "run1.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 5
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert 'src="http' not in page and ".png\"" not in page  # nothing outside the file
    for heading in ("Summary", "Personality type breakdown", "Scenario breakdown", "Flakiness (pass^k)",
                    "Voice latency (ms)", "Error categories", "Calls"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<table") >= 8
    assert "<td>angry_complaint</td>" in page and "75.0%" in page and "fixture07" in page


def test_text_from_the_data_is_escaped(analysis):
    calls = analysis.calls.copy()
    calls.loc[0, "scenario"] = "<script>alert(1)</script>"
    page = render_html(replace(analysis, data=replace(analysis.data, calls=calls)), {})
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_scenario_type_table(mixed):
    page = render_html(mixed, {})
    types = page.index("<h2>Scenario type breakdown</h2>")
    assert page.index("<h2>Personality type breakdown</h2>") < types < page.index("<h2>Scenario breakdown</h2>")
    section = page[types:page.index("<h2>Scenario breakdown</h2>")]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", section, re.DOTALL)]
    rows = [row for row in rows if row]
    assert [row[0] for row in rows] == ["account_inquiry", "card_replacement", "complaint", "unknown"]
    # Calls, Judged, Successes, Success rate, 95% CI, Simulator errors, Cancelled, Avg duration
    assert rows[2][1:9] == ["4", "4", "3", "75.0%", "30.1%-95.4%", "0", "0", "43.2s"]
    assert rows[0][1:8] == ["3", "2", "2", "100.0%", "34.2%-100.0%", "1", "0"]
    assert rows[3][1:8] == ["1", "0", "0", "n/a", "n/a", "0", "1"]
