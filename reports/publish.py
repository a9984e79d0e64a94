"""Write a report's files (NAME.txt, NAME.json, NAME_<chart>.png, NAME.html, JUnit XML) and tell the user
where they are; the batch runner hands its calls file here once its last call has ended."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, TextIO, Union

from reports.charts import png_bytes, render_charts
from reports.html import render_html
from reports.json_report import write_json
from reports.junit import write_junit
from reports.load import data_problems, load_calls
from reports.stats import Analysis, analyse
from reports.text import render_report, render_summary


def write_outputs(analysis: Analysis, name: Union[str, Path]) -> list[Path]:
    """NAME.json, NAME.txt, one PNG per chart and NAME.html (charts inlined) beside them; returns the paths."""
    base = Path(name)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = [write_json(analysis, base.with_name(base.name + ".json"))]
    text_path = base.with_name(base.name + ".txt")
    text_path.write_text(render_report(analysis), encoding="utf-8")
    written.append(text_path)
    charts = {key: png_bytes(figure) for key, figure in render_charts(analysis).items()}
    for key, png in charts.items():
        chart_path = base.with_name(f"{base.name}_{key}.png")
        chart_path.write_bytes(png)
        written.append(chart_path)
    html_path = base.with_name(base.name + ".html")
    html_path.write_text(render_html(analysis, charts, html_path.parent), encoding="utf-8")
    written.append(html_path)
    return written


def warn_data_problems(analysis: Analysis, stream: TextIO) -> None:
    """Say on stderr what was left out, so a report of a damaged file is never mistaken for a complete one."""
    for problem in data_problems(analysis.data):
        print(f"warning: {problem}", file=stream)


def publish_batch(calls_file: Union[str, Path], output: Optional[str], junit: Optional[str],
                  stream: TextIO = sys.stdout) -> None:
    """After a batch: print the summary, then write the --output files and the --junit XML if asked for."""
    analysis = analyse(load_calls([calls_file]))
    warn_data_problems(analysis, sys.stderr)
    print("\n" + render_summary(analysis), file=stream)
    if output:
        paths = write_outputs(analysis, output)
        print("Report: " + ", ".join(str(path) for path in paths), file=stream)
    if junit:
        print(f"JUnit XML: {write_junit(analysis.calls, junit)}", file=stream)
