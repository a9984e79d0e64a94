"""Caller Agent reports: call results (calls*.jsonl) and Locust's CSV output in, pandas tables out, rendered
as text (the seed's layout), JSON (for CI), matplotlib charts, one HTML page and JUnit XML.

Reads files only: it never imports the transport or the brains, so a report can be made on any machine that
has the results. Pipeline: `load` (files -> DataFrames) -> `stats.analyse` (-> Analysis) -> renderers
(`text`, `json_report`, `charts`, `html`, `junit`), written together by `publish`; `compare` sets two
runs side by side. Command line: `python -m reports --help`.
"""
from reports.compare import compare_reports, load_report
from reports.load import ReportInputError, load_calls, load_locust
from reports.publish import publish_batch, write_outputs
from reports.stats import Analysis, analyse, wilson_interval

__all__ = ["Analysis", "ReportInputError", "analyse", "compare_reports", "load_calls", "load_locust",
           "load_report", "publish_batch", "wilson_interval", "write_outputs"]
