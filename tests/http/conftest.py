"""HTTP-edge fixtures: the holder side's WeChat stand-in, and the fuzzing counts in the summary."""

from __future__ import annotations

import sys

import pytest

from tests.holder.conftest import holder, standin

__all__ = ["holder", "standin"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzz = sys.modules.get("tests.http.test_fuzz")
    counts = getattr(fuzz, "FUZZED", None)
    if counts:
        terminalreporter.write_sep("-", "schema fuzzing: cases sent per document and mode")
        for (document, mode), count in sorted(counts.items()):
            terminalreporter.write_line(f"{document:9} {mode:10} {count}")
