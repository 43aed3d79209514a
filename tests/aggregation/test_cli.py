"""``wallet aggregate …`` through the console script, in a subprocess."""

from __future__ import annotations

import orjson

from tests.aggregation.conftest import Bench
from tests.cli_helpers import wallet_many

# The console script's real main, once per command line, all in one process.


async def _aggregate(bench: Bench, *commands: list[str]) -> list[tuple[int, str, str]]:
    return await wallet_many(
        bench.rt.settings,
        *(["aggregate", *command] for command in commands),
        env={"WALLET_MINISTRY_URL": bench.ministry.url, "WALLET_AGGREGATION_TIMEOUT": "2"},
    )


async def test_status_resend_and_run(bench: Bench) -> None:
    ids = await bench.seed(licences=6)
    bench.ministry.state.fail()
    two = ["run", "--once", "--workers", "2"]
    first, status, *_ = await _aggregate(bench, ["run", "--once"], ["status", "--json"])
    assert first[0] == 0 and "failed" in first[1]
    rows = orjson.loads(status[1])
    assert rows[0]["state"] == "pending" and rows[0]["events"] == len(ids)
    assert {r["reason"]: r["events"] for r in rows[1:]} == {"http_5xx": len(ids)}

    bench.ministry.state.recover()
    resend, again, table, many = await _aggregate(
        bench, ["resend", "--reason", "http_5xx"], ["run", "--once"], ["status"], two
    )

    assert resend[:2] == (0, f"{len(ids)} failed events due now\n")
    assert again[0] == 0 and f"events acknowledged {len(ids)}" in again[1]
    assert table[1].splitlines()[1].split()[:3] == ["pending", "-", "0"]
    assert bench.ministry.state.distinct_events == len(ids)
    if bench.rt.settings.is_embedded_database:
        # SQLite runs one worker.
        assert many[0] == 2 and "needs PostgreSQL" in many[2]
    else:
        assert many[0] == 0


async def test_usage_errors_exit_2(bench: Bench) -> None:
    neither, bad = await _aggregate(bench, ["resend"], ["run", "--workers", "0"])
    assert neither[0] == 2 and bad[0] == 2
