"""HTTP-edge fixtures: the fuzzing counts in the summary (the WeChat stand-in is the root's)."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzz = sys.modules.get("tests.http.test_fuzz")
    counts = getattr(fuzz, "FUZZED", None)
    if counts:
        terminalreporter.write_sep("-", "schema fuzzing: cases sent per document and mode")
        for (document, mode), count in sorted(counts.items()):
            terminalreporter.write_line(f"{document:9} {mode:10} {count}")
