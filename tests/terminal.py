"""Print a test's table (a fault matrix, say) on the terminal, past pytest's output capture."""
from __future__ import annotations


def show_lines(config, lines: list[str]) -> None:
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)
