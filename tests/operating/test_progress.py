"""Progress of long commands, Ctrl-C between batches, and an import that resumes."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

import pytest

from tests.cli_helpers import cli_env, wallet
from tests.conftest import _empty_tables
from tests.factories import committing
from tests.licences.test_import import bodies, counts, write_jsonl
from wallet.cli._progress import GracefulStop, Progress, format_duration
from wallet.cli.imports import count_rows
from wallet.licences.import_files import RejectReport, import_file, open_source
from wallet.licences.importer import import_rows
from wallet.licences.models import LicenceVersion


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_every_interval_with_rate_and_eta():
    out, clock = io.StringIO(), Ticks()
    progress = Progress("import feed", 1000, stream=out, interval=10, clock=clock)
    for done in (100, 200, 300):
        clock.now += 4
        progress.update(done)
    # 8 s after the start: no line yet; 12 s: one line.
    lines = out.getvalue().splitlines()
    assert lines == ["import feed: 300/1000 rows (30%), 25 rows/s, ETA 28s, elapsed 12s"]
    clock.now += 28
    progress.update(1000)
    progress.close()
    progress.close()
    assert (
        out.getvalue().splitlines()[-1]
        == "import feed: 1000/1000 rows (100%), 25 rows/s, elapsed 40s"
    )
    assert len(out.getvalue().splitlines()) == 2  # the last count once, not twice


def test_an_estimated_total_never_shows_past_100_percent():
    out, clock = io.StringIO(), Ticks()
    with Progress("x", 10, unit="seals", stream=out, interval=0, clock=clock) as progress:
        clock.now += 1
        progress.update(12)
    assert out.getvalue().splitlines()[-1].startswith("x: 12/12 seals (100%)")
    out = io.StringIO()
    with Progress("y", None, stream=out, clock=clock) as progress:
        progress.update(5)
    assert out.getvalue() == "y: 5 rows, 0 rows/s, elapsed 0s\n"


def test_a_bar_on_a_terminal():
    out = io.StringIO()
    with Progress("import feed", 50, stream=out, interactive=True) as progress:
        progress.update(20)
        progress.update(50)
    text = out.getvalue()
    assert "import feed" in text and "50/50" in text and "rows/s" in text


def test_format_duration():
    assert [format_duration(s) for s in (0, 59.6, 61, 3600 * 3 + 125)] == [
        "0s",
        "1m00s",
        "1m01s",
        "3h02m",
    ]


async def test_first_interrupt_asks_second_aborts():
    err, aborted = io.StringIO(), []
    before = signal.getsignal(signal.SIGINT)
    with GracefulStop(stream=err, abort=lambda: aborted.append(True)) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if stop.requested:
                break
        assert stop() is True and not aborted
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if aborted:
                break
    assert aborted == [True]
    assert "stopping after the current batch" in err.getvalue()
    assert "stopped at once" in err.getvalue()
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back


def test_count_rows(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a":1}\n\n{"a":2}\n{"a":3}')
    assert count_rows(path, "jsonl") == 3
    path.write_bytes(b"kind,version\nx,1\ny,2\n")
    assert count_rows(path, "csv") == 2


@pytest.fixture
async def keyed(rt):
    await committing(rt.keys.init)(["210000"])
    return rt


async def test_a_stopped_import_resumes_to_the_same_result(keyed, tmp_path):
    rt = keyed
    path = write_jsonl(tmp_path / "feed.jsonl", bodies(10, seed=31))
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) >= 2  # after the second batch

    first = await import_file(rt.registry, path, batch_size=3)
    assert first.created == 10
    whole = await counts()
    # Again from nothing, stopped after two batches, then resumed.
    await _empty_tables()
    await committing(rt.keys.init)(["210000"])
    with open_source(path) as source, RejectReport(tmp_path / "r.csv") as report:
        stopped = await import_rows(
            rt.registry, source, source=source.name, rejects=report, batch_size=3, stop=stop
        )
    assert stopped.interrupted and stopped.read == 6 and stopped.last_line == 6
    assert await LicenceVersion.all().count() == 6
    resumed = await import_file(rt.registry, path, batch_size=3)
    assert (resumed.created, resumed.unchanged, resumed.interrupted) == (4, 6, False)
    assert await counts() == whole
    again = await import_file(rt.registry, path, batch_size=3)
    assert (again.created, again.unchanged) == (0, 10)
    assert await counts() == whole


async def test_ctrl_c_stops_the_command_after_a_batch_and_a_rerun_resumes(
    keyed, settings, tmp_path
):
    path = write_jsonl(tmp_path / "feed.jsonl", bodies(120, seed=32))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        "import",
        str(path),
        "--batch",
        "4",
        "--workers",
        "2",
        "--progress-every",
        "0",
        env=cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    # Plain lines (stderr is a pipe): wait for the first batch, then press Ctrl-C.
    first = await asyncio.wait_for(proc.stderr.readline(), 60)
    assert first.startswith(b"import feed.jsonl: ") and b"/120 rows" in first
    proc.send_signal(signal.SIGINT)
    rest = await asyncio.wait_for(proc.stderr.read(), 60)
    out = (await proc.stdout.read()).decode()
    code = await proc.wait()
    err = (first + rest).decode()
    assert code == 130, err
    assert "stopping after the current batch" in err and "Traceback" not in err
    assert "Run the same command again to resume" in err
    done = await LicenceVersion.all().count()
    assert 0 < done < 120 and done % 4 == 0
    assert f"created {done}," in out

    code, out, err = await wallet(settings, "import", str(path), "--batch", "4")
    assert code == 0, err
    assert f"read 120, created {120 - done}, unchanged {done}, rejected 0" in out
    assert await LicenceVersion.all().count() == 120


async def test_a_second_ctrl_c_stops_at_once_and_rolls_the_batch_back(keyed, settings, tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", bodies(60, seed=33))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        "import",
        str(path),
        "--batch",
        "20",
        "--workers",
        "0",
        "--progress-every",
        "0",
        env=cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None and proc.stdout is not None
    first = await asyncio.wait_for(proc.stderr.readline(), 60)
    assert b"20/60 rows" in first
    proc.send_signal(signal.SIGINT)
    notice = await asyncio.wait_for(proc.stderr.readline(), 60)
    notice += await asyncio.wait_for(proc.stderr.readline(), 60)
    assert b"stopping after the current batch" in notice
    proc.send_signal(signal.SIGINT)
    rest = await asyncio.wait_for(proc.stderr.read(), 60)
    await proc.stdout.read()
    code = await proc.wait()
    err = (first + notice + rest).decode()
    assert code == 130, err
    assert "Traceback" not in err
    assert "stopped at once by a second Ctrl-C" in err
    done = await LicenceVersion.all().count()
    assert done in (20, 40)
    code, out, err = await wallet(settings, "import", str(path))
    assert code == 0, err
    assert f"created {60 - done}, unchanged {done}" in out
