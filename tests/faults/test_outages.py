"""Kill Redis, then stop PostgreSQL, under load: nothing answers 500, nothing is lost.

The real combined app runs in its own process (``uvicorn --factory
httpkit.combined:create_app``) against a private Redis and a private
PostgreSQL cluster. Scanners verify fresh QR strings of three licences while
an authority client suspends and reinstates the first one and a prober polls
``/readyz``. Redis is killed (its data lost) for a few seconds and started
again; then PostgreSQL is stopped for a few seconds and started again; the
app process is never restarted. Then:

* no answer is a 500 (a dependency that is down is a 503 naming it);
* a ``valid`` verdict always carries ``status_checked_at`` and is never given
  for the suspended licence while it is surely suspended;
* ``/readyz`` named each failed dependency and recovered by itself;
* every answered verdict has exactly one verification record (after each
  fault, the spool drained);
* every acknowledged status change is stored, and the cache agrees with the
  database at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from redis.asyncio import Redis

from tests.conftest import TEST_MASTER_KEY
from tests.faults.servers import PostgresCluster, RedisServer, free_port
from wallet.authority.signing import sign_request
from wallet.crypto import sm2_backend
from wallet.presentation.tokens import mint_qr

ROOT = Path(__file__).resolve().parents[2]
OUTAGE = 4.0  # seconds each dependency stays down
SETTLE = 4.0  # seconds of load after each restart before counting


@dataclass
class Scan:
    started: float
    ended: float
    ref: str
    jti: str
    status: int
    verdict: str | None = None
    checked_at: str | None = None
    detail: str = ""


@dataclass
class Change:
    started: float
    ended: float
    action: str
    status: int
    registry_status: str | None = None
    dependency: str | None = None


@dataclass
class Load:
    scans: list[Scan] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    ready: list[tuple[float, float, int, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="rtel-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture
def app_env(workdir: Path, redis_server: RedisServer, postgres: PostgresCluster) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=postgres.url,
        REDIS_URL=redis_server.url,
        WALLET_DATA_DIR=str(workdir / "var"),
        WALLET_MASTER_KEY=TEST_MASTER_KEY,
        WALLET_DEPLOYMENT="test",
        WALLET_SCAN_RATE_LIMIT=str(10**6),
        WALLET_LOG_LEVEL="WARNING",
    )


@pytest.fixture
def scene(app_env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed"],
        cwd=ROOT,
        env=app_env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seeded: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return seeded


@pytest.fixture
def app(app_env: dict[str, str], workdir: Path) -> Iterator[tuple[str, Path]]:
    """The combined app in its own process (uvicorn), as deployed; never restarted here."""
    port = free_port()
    log_path = workdir / "app.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "httpkit.combined:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            cwd=ROOT,
            env=app_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=2) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        break
                assert process.poll() is None, log_path.read_text()[-3000:]
                time.sleep(0.1)
        yield base, log_path
        assert process.poll() is None, "the app exited: " + log_path.read_text()[-3000:]
    finally:
        process.terminate()
        process.wait(20)


def _jti(qr: str) -> str:
    payload = qr.split(".")[1]
    jti: str = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
    return jti


async def _scanner(
    http: httpx.AsyncClient, scene: dict[str, Any], headers: dict[str, str], load: Load, n: int
) -> None:
    sm2 = sm2_backend("auto")
    key = bytes.fromhex(scene["private_key"])
    while not load.stop.is_set():
        lic = scene["licences"][n % len(scene["licences"])]
        n += 1
        qr = mint_qr(
            scene["kid"], key, sm2, lic=lic["ref"], knd=lic["knd"], iss=lic["iss"],
            ver=lic["ver"], now=int(time.time()), lifetime=60,
        )  # fmt: skip
        started = time.monotonic()
        try:
            response = await http.post(
                "/verifier/v1/verifications", json={"qr": qr}, headers=headers
            )
        except httpx.TransportError as exc:
            load.errors.append(f"scan: {type(exc).__name__}")
            continue
        scan = Scan(started, time.monotonic(), lic["ref"], _jti(qr), response.status_code)
        body = response.json()
        scan.detail = body.get("detail", "")
        if response.status_code == 200:
            scan.verdict, scan.checked_at = body["verdict"], body["status_checked_at"]
        load.scans.append(scan)
        await asyncio.sleep(0.01)


async def _changer(http: httpx.AsyncClient, scene: dict[str, Any], load: Load) -> None:
    ref = scene["licences"][0]["ref"]
    action = "suspend"
    while not load.stop.is_set():
        change = await _change(http, scene, ref, action)
        load.changes.append(change)
        if change.status == 200:
            action = "reinstate" if change.registry_status == "suspended" else "suspend"
        elif change.status == 409:  # an unacknowledged change had committed: resync
            action = "reinstate" if action == "suspend" else "suspend"
        await asyncio.sleep(0.3)


async def _change(http: httpx.AsyncClient, scene: dict[str, Any], ref: str, action: str) -> Change:
    path = f"/authority/v1/licences/{ref}/status"
    body = orjson.dumps({"action": action, "reason": "fault suite"})
    headers = {
        "X-Client-Id": scene["client_id"],
        "Content-Type": "application/json",
        **sign_request(scene["secret"], "POST", path, body, timestamp=int(time.time())),
    }
    started = time.monotonic()
    try:
        response = await http.post(path, content=body, headers=headers)
    except httpx.TransportError:
        return Change(started, time.monotonic(), action, 0)
    change = Change(started, time.monotonic(), action, response.status_code)
    if response.status_code == 200:
        change.registry_status = response.json()["registry_status"]
    elif response.status_code == 503:
        change.dependency = response.json().get("dependency")
    return change


async def _prober(http: httpx.AsyncClient, load: Load) -> None:
    while not load.stop.is_set():
        started = time.monotonic()
        try:
            response = await http.get("/readyz")
            checks = response.json()["checks"]
            load.ready.append((started, time.monotonic(), response.status_code, checks))
        except httpx.TransportError as exc:
            load.errors.append(f"readyz: {type(exc).__name__}")
        await asyncio.sleep(0.2)


async def _records(database_url: str, jtis: list[str]) -> dict[str, int]:
    """How many verification records each token id has."""
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch(
            "SELECT token_id, count(*) AS n FROM verification_record "
            "WHERE token_id = ANY($1::varchar[]) GROUP BY token_id",
            jtis,
        )
    finally:
        await conn.close()
    return {row["token_id"]: row["n"] for row in rows}


def _spooled(spool: Path) -> int:
    """Bytes waiting in the app's verification spool."""
    return sum(p.stat().st_size for p in spool.glob("*.jsonl"))


def _window_ready(load: Load, start: float, end: float) -> list[tuple[int, dict[str, str]]]:
    return [(status, checks) for t0, t1, status, checks in load.ready if start <= t0 and t1 <= end]


def _answered(load: Load, until: float) -> list[Scan]:
    return [s for s in load.scans if s.status == 200 and s.ended <= until]


async def _account(postgres: PostgresCluster, answered: list[Scan]) -> tuple[int, int, list[str]]:
    """(verdicts answered, their records, token ids without exactly one record)."""
    counts = await _records(postgres.url, [s.jti for s in answered])
    wrong = [s.jti for s in answered if counts.get(s.jti) != 1]
    return len(answered), sum(counts.values()), wrong


async def test_outages_answer_no_500_and_lose_no_record(
    scene: dict[str, Any],
    app: tuple[str, Path],
    redis_server: RedisServer,
    postgres: PostgresCluster,
    workdir: Path,
) -> None:
    base, log_path = app
    load = Load()
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        officers = []
        for badge, device in scene["officers"]:
            response = await http.post(
                "/verifier/v1/session",
                json={"badge": badge, "password": scene["password"], "device_id": device},
            )
            assert response.status_code == 201, response.text
            officers.append(
                {"Authorization": f"Bearer {response.json()['token']}", "X-Device-Id": device}
            )
        tasks = [
            asyncio.create_task(_scanner(http, scene, officers[i % 2], load, i)) for i in range(3)
        ]
        tasks += [asyncio.create_task(_changer(http, scene, load))]
        tasks += [asyncio.create_task(_prober(http, load))]

        await asyncio.sleep(2)
        redis_down = time.monotonic()
        redis_server.kill()
        await asyncio.sleep(OUTAGE)
        redis_server.start()
        redis_up = time.monotonic()
        await asyncio.sleep(SETTLE)
        after_redis = time.monotonic()
        report["redis"] = await _account(postgres, _answered(load, after_redis))

        pg_down = time.monotonic()
        postgres.stop()
        await asyncio.sleep(OUTAGE)
        postgres.start()
        pg_up = time.monotonic()
        await asyncio.sleep(SETTLE)
        load.stop.set()
        await asyncio.gather(*tasks)

        # Settle the changer's licence with one last change that must be acknowledged.
        ref = scene["licences"][0]["ref"]
        last = next(c for c in reversed(load.changes) if c.status == 200)
        final_action = "reinstate" if last.registry_status == "suspended" else "suspend"
        final = await _change(http, scene, ref, final_action)
        assert final.status == 200, final
        load.changes.append(final)
        ready_at_end = await http.get("/readyz")

    for _ in range(75):  # the app drains its spool every second
        if not _spooled(workdir / "var" / "spool"):
            break
        await asyncio.sleep(0.2)
    assert not _spooled(workdir / "var" / "spool"), "the spool was not drained"
    answered = _answered(load, float("inf"))
    report["postgres"] = await _account(postgres, answered)
    statuses: dict[int, int] = {}
    for scan in load.scans:
        statuses[scan.status] = statuses.get(scan.status, 0) + 1
    verdicts: dict[str | None, int] = {}
    for scan in answered:
        verdicts[scan.verdict] = verdicts.get(scan.verdict, 0) + 1
    changes: dict[str, int] = {}
    for change in load.changes:
        label = f"{change.status}" + (f" {change.dependency}" if change.dependency else "")
        changes[label] = changes.get(label, 0) + 1
    phases = {
        "redis down": (redis_down, redis_up),
        "postgres down": (pg_down, pg_up),
    }
    by_phase: dict[str, dict[str, int]] = {}
    for scan in load.scans:
        phase = next((n for n, (a, b) in phases.items() if a <= scan.started <= b), "up")
        label = f"{scan.verdict or scan.status}" + (f" ({scan.detail})" if scan.detail else "")
        by_phase.setdefault(phase, {}).setdefault(label, 0)
        by_phase[phase][label] += 1
    summary = (
        f"by phase {by_phase}; "
        f"scans by HTTP status {statuses}; verdicts {verdicts}; status changes {changes}; "
        f"after the Redis fault: answered/records {report['redis'][:2]}; "
        f"after the PostgreSQL fault: answered/records {report['postgres'][:2]}; "
        f"transport errors {len(load.errors)}"
    )
    print(summary)
    log = log_path.read_text()
    bug = log[max(log.find("unhandled error") - 200, 0) :][:6000] if "unhandled" in log else ""

    # No 500: an outage is a verdict or a 503 naming the dependency.
    assert not [s for s in load.scans if s.status >= 500 and s.status != 503], (summary, bug)
    assert not [c for c in load.changes if c.status >= 500 and c.status != 503], (summary, bug)
    assert not bug, bug
    assert not load.errors, (load.errors[:10], summary)
    assert all(c.dependency in ("database", "cache") for c in load.changes if c.status == 503)

    # Never valid without a status read, never valid while surely suspended.
    assert all(s.checked_at for s in answered if s.verdict == "valid"), summary
    suspended = []
    for i, change in enumerate(load.changes):
        if change.status == 200 and change.registry_status == "suspended":
            later = [c.started for c in load.changes[i + 1 :] if c.action == "reinstate"]
            suspended.append((change.ended, later[0] if later else float("inf")))
    wrong = [
        s
        for s in answered
        if s.ref == ref
        and s.verdict == "valid"
        and any(start <= s.started and s.ended <= end for start, end in suspended)
    ]
    assert not wrong, (wrong[:5], summary)

    # Scans went on through both outages.
    for start, end in ((redis_down + 0.5, redis_up), (pg_down + 0.5, pg_up)):
        during = [s for s in answered if start <= s.started and s.ended <= end]
        assert any(s.verdict == "valid" for s in during), (start, end, summary)

    # /readyz named each failed dependency and recovered without a restart.
    for name, start, end, up in (
        ("cache", redis_down + 0.5, redis_up, redis_up),
        ("database", pg_down + 0.5, pg_up, pg_up),
    ):
        window = _window_ready(load, start, end)
        assert window and all(status == 503 for status, _ in window), (name, window)
        assert all(checks[name] != "ok" for _, checks in window), (name, window)
        assert any(status == 200 for status, _ in _window_ready(load, up, up + SETTLE)), name
    assert ready_at_end.status_code == 200, ready_at_end.text

    # Every answered verdict has exactly one record, after each fault.
    for fault, (count, records, missing) in report.items():
        assert not missing, (fault, count, records, missing[:5])
        assert count == records, (fault, count, records)

    # Every acknowledged status change is stored, and the cache holds the last one.
    acknowledged = [c for c in load.changes if c.status == 200]
    conn = await asyncpg.connect(postgres.url.replace("postgres://", "postgresql://", 1))
    try:
        row = await conn.fetchrow("SELECT id, status, status_seq FROM licence WHERE ref = $1", ref)
        stored = await conn.fetchval(
            "SELECT count(*) FROM licence_status_change WHERE licence_id = $1", row["id"]
        )
    finally:
        await conn.close()
    assert stored >= len(acknowledged), (stored, len(acknowledged))
    assert row["status"] == final.registry_status
    cache = Redis.from_url(redis_server.url)
    try:
        entry = await cache.get(f"rtel:status:{ref}")
    finally:
        await cache.aclose()
    assert entry is not None
    cached = orjson.loads(entry)
    assert cached["s"] == row["status"] and cached.get("q", row["status_seq"]) == row["status_seq"]
