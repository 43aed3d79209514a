"""``wallet doctor``: every check passes on a sound deployment, each misconfiguration fails."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta

import httpx
import orjson
import pytest

from tests.cli_helpers import wallet
from tests.conftest import TEST_MASTER_KEY
from tests.factories import committing
from wallet.clock import FixedClock
from wallet.keys.models import SigningKey
from wallet.operating.doctor import Check, examine
from wallet.settings import load_settings
from wallet.wechat.standin import StandinServer

WECHAT = "https://api.weixin.qq.com"
APP_ID, SECRET = "wx1234567890abcdef", "s" * 32


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.check: c for c in checks}


def failed(checks: list[Check]) -> dict[str, str]:
    return {c.check: f"{c.detail} → {c.fix}" for c in checks if not c.ok}


@pytest.fixture
async def keyed(rt):
    await committing(rt.keys.init)(["210000"])
    return rt


async def run(settings, **kw) -> list[Check]:
    """The doctor in this process, on the run's open database (left open)."""
    environ = {"WALLET_DATA_DIR": str(settings.data_dir)}
    return await examine(settings, open_db=False, environ=environ, **kw)


async def test_a_sound_deployment_passes_every_check(keyed, settings):
    (code, out, err), (json_code, as_json, _) = await asyncio.gather(
        wallet(settings, "doctor"), wallet(settings, "doctor", "--json")
    )
    assert code == 0, out + err
    lines = out.splitlines()
    assert all(line.startswith("ok ") for line in lines[:-1]), out
    assert lines[-1] == f"all {len(lines) - 1} checks ok"
    names = [line.split()[1] for line in lines[:-1]]
    for name in ("settings", "data_dir", "master_key", "database", "migrations", "clock"):
        assert name in names
    assert out.count(" key ") == 4 and "opens with the master key" in out
    assert "cache" in names and "identity" in names and "wechat" in names
    assert TEST_MASTER_KEY not in out + err
    assert json_code == 0
    rows = orjson.loads(as_json)
    assert [r["check"] for r in rows] == [re.match(r"ok {4}(.+?)  ", x)[1] for x in lines[:-1]]
    assert all(r["ok"] is True and r["fix"] == "" for r in rows)


async def test_each_misconfiguration_of_the_environment_fails(keyed, settings, tmp_path):
    world_readable = tmp_path / "master.key"
    world_readable.write_text(TEST_MASTER_KEY + "\n")
    os.chmod(world_readable, 0o644)
    cases = {
        "data_dir": {"WALLET_DATA_DIR": "var"},
        "master_key": {"WALLET_MASTER_KEY": None, "WALLET_MASTER_KEY_FILE": str(world_readable)},
        "key root": {"WALLET_MASTER_KEY": "ab" * 32},
        "database": {
            "DATABASE_URL": "postgres://postgres:secret-pw@127.0.0.1:1/nothing",
            "WALLET_DEPLOYMENT": "test",
        },
        "migrations": {"DATABASE_URL": f"sqlite://{tmp_path / 'empty.sqlite3'}"},
        "cache": {"REDIS_URL": "redis://127.0.0.1:1/0", "WALLET_DEPLOYMENT": "test"},
        "settings": {"WALLET_QR_LIFETIME": "5"},
    }
    results = await asyncio.gather(
        *(wallet(settings, "doctor", "--json", env=env) for env in cases.values())
    )
    for (name, env), (code, out, err) in zip(cases.items(), results, strict=True):
        assert code == 1, (name, out, err)
        rows = {r["check"]: r for r in orjson.loads(out)}
        assert rows[name]["ok"] is False, (name, rows)
        assert rows[name]["fix"], (name, rows[name])
    rows = {r["check"]: r for r in orjson.loads(results[0][1])}
    assert "relative" in rows["data_dir"]["detail"]
    rows = {r["check"]: r for r in orjson.loads(results[1][1])}
    assert "0644" in rows["master_key"]["detail"] and "chmod 600" in rows["master_key"]["fix"]
    rows = {r["check"]: r for r in orjson.loads(results[2][1])}
    assert "does not open" in rows["key root"]["detail"]
    rows = {r["check"]: r for r in orjson.loads(results[3][1])}
    assert "secret-pw" not in results[3][1] and "***" in rows["database"]["fix"]
    assert rows["migrations"]["ok"] is False and "not checked" in rows["migrations"]["detail"]
    rows = {r["check"]: r for r in orjson.loads(results[4][1])}
    assert "pending" in rows["migrations"]["detail"] and rows["migrations"]["fix"] == (
        "run `wallet migrate`"
    )
    rows = {r["check"]: r for r in orjson.loads(results[6][1])}
    assert "WALLET_QR_LIFETIME" in rows["settings"]["detail"]
    # The human form: one line per check, the failure says what to fix.
    code, out, _ = await wallet(settings, "doctor", env=cases["data_dir"])
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("FAIL"))
    assert line.split()[1] == "data_dir" and "→ set WALLET_DATA_DIR to an absolute path" in line
    assert out.splitlines()[-1].endswith("checks failed")


async def test_keys_missing_expiring_or_absent_for_a_province(rt, settings):
    problems = failed(await run(settings))
    assert "no province is configured" in problems["keys"]
    assert "no active key" in problems["key root"]

    await committing(rt.keys.init)(["210000"])
    assert not failed(await run(settings))
    problems = failed(await run(settings, provinces=["110000"]))
    assert list(problems) == ["key seal 110000"]
    assert "wallet keys init --province 110000" in problems["key seal 110000"]

    soon = rt.clock.now() + timedelta(days=10)
    await SigningKey.filter(use="seal", status="active").update(not_after=soon)
    problems = failed(await run(settings))
    assert list(problems) == ["key seal 210000"]
    assert "within 30 days" in problems["key seal 210000"]
    assert "wallet keys rotate --use seal --division 210000" in problems["key seal 210000"]


async def test_clock_skew_beyond_two_seconds_fails(keyed, settings):
    near = FixedClock(keyed.clock.now() + timedelta(seconds=1))
    assert by_name(await run(settings, clock=near))["clock"].ok
    far = FixedClock(keyed.clock.now() + timedelta(seconds=10))
    clock = by_name(await run(settings, clock=far))["clock"]
    assert not clock.ok and "more than 2 s" in clock.detail and "NTP" in clock.fix


class ClusterNode:
    """A Redis node in cluster mode (no cluster runs here): answers PING and INFO."""

    async def ping(self) -> bool:
        return True

    async def info(self, section: str) -> dict[str, int]:
        assert section == "cluster"
        return {"cluster_enabled": 1}


async def test_redis_in_cluster_mode_fails(keyed, settings):
    with_redis = settings.model_copy(update={"redis_url": "redis://10.0.0.1:6379/0"})
    cache = by_name(await run(with_redis, cache=ClusterNode()))["cache"]
    assert not cache.ok and "cluster mode" in cache.detail


async def test_a_redis_cluster_named_as_one_passes_and_a_standalone_one_fails(keyed, settings):
    named = settings.model_copy(update={"redis_url": "redis+cluster://10.0.0.1:6379"})
    cache = by_name(await run(named, cache=ClusterNode()))["cache"]
    assert cache.ok and "a Redis Cluster" in cache.detail
    flag = settings.model_copy(update={"redis_url": "redis://10.0.0.1:6379", "redis_cluster": True})
    assert by_name(await run(flag, cache=ClusterNode()))["cache"].ok
    standalone = by_name(await run(named, cache=StubCache()))["cache"]
    assert not standalone.ok and "standalone" in standalone.detail


def production(settings, **changes):
    """A standard deployment on services (PostgreSQL named, Redis set), WeChat face checks."""
    values = {
        "database_url": "postgres://wallet@db.internal:5432/wallet",
        "redis_url": "redis://cache.internal:6379/0",
        "deployment": "standard",
        "identity_provider": "wechat_face",
        "wechat_api_base": WECHAT,
        "wechat_app_id": APP_ID,
        "wechat_app_secret": SECRET,
    }
    values.update(changes)
    return load_settings(
        data_dir=settings.data_dir, master_key=TEST_MASTER_KEY, master_key_file=None, **values
    )


def via_standin(standin):
    """WeChat's host answered by the stand-in over real HTTP."""

    async def forward(request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient() as http:
            answer = await http.post(standin.url + request.url.path, content=request.content)
        return httpx.Response(answer.status_code, content=answer.content)

    return httpx.MockTransport(forward)


class StubCache:
    async def ping(self) -> bool:
        return True

    async def info(self, section: str) -> dict[str, int]:
        return {"cluster_enabled": 0}


@pytest.fixture
def production_standin():
    """The stand-in knowing the production-like credentials of :func:`production`."""
    with StandinServer(app_id=APP_ID, app_secret=SECRET) as server:
        yield server


async def test_identity_and_wechat(keyed, settings, standin, production_standin):
    # Production with the real credentials: the token endpoint issues a token.
    sound = production(settings)
    wechat_host = via_standin(production_standin)
    checks = by_name(await run(sound, cache=StubCache(), wechat_transport=wechat_host))
    assert checks["identity"].ok and checks["wechat"].ok, checks
    assert "issues access tokens" in checks["wechat"].detail
    # A secret WeChat refuses.
    refused = production(settings, wechat_app_secret="t" * 32)
    wechat = by_name(await run(refused, cache=StubCache(), wechat_transport=wechat_host))["wechat"]
    assert not wechat.ok and "errcode 40125" in wechat.detail and "t" * 32 not in wechat.detail
    # Unreachable.
    down = httpx.MockTransport(lambda request: (_ for _ in ()).throw(httpx.ConnectError("down")))
    wechat = by_name(await run(sound, cache=StubCache(), wechat_transport=down))["wechat"]
    assert not wechat.ok and "unreachable" in wechat.detail
    # The development defaults where real holders sign in.
    dev = production(settings, wechat_app_id="wx0000000000000000", wechat_app_secret="dev-secret")
    wechat = by_name(await run(dev, cache=StubCache()))["wechat"]
    assert not wechat.ok and "development default" in wechat.detail
    # Face verification against a local stand-in confirms anyone.
    local = production(settings, wechat_api_base=standin.url)
    checks = by_name(await run(local, cache=StubCache()))
    assert not checks["identity"].ok and "stand-in" in checks["identity"].detail
    assert not checks["wechat"].ok and "stand-in" in checks["wechat"].detail
    # The registry provider: only where the settings allow it, and said so.
    checks = by_name(await run(settings))
    where = "embedded defaults" if settings.is_embedded else "test deployment"
    assert checks["identity"].ok and where in checks["identity"].detail
    assert checks["wechat"].ok and "stand-in" in checks["wechat"].detail
