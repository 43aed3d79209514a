"""``/metrics``: on both deployables, labelled by route template, counting verdicts and
status-cache reads, with gauges computed from the database that never turn a scrape
into a 500, and closed to the world."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

import miniprogram_api.app as backend_app
import verifier.app as verifier_app
from httpkit.metrics import ScrapeGauges, Source, _process_metrics, default_sources
from wallet.errors import Unavailable

VERIFY = "/verifier/v1/verifications"
TOKEN = "m" * 40


def _with_state(app: Any, **state: Any) -> Any:
    """``app`` served with ``state`` as its lifespan state (the session's runtime by default)."""

    async def asgi(scope, receive, send):
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return asgi


def _http(app: Any, client: tuple[str, int] = ("127.0.0.1", 40000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _scrape(http: httpx.AsyncClient, path: str = "/metrics") -> dict:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_both_mounts_of_the_combined_app_answer(client):
    await client.get("/healthz")
    for path in ("/metrics", "/verifier/metrics"):
        samples = await _scrape(client, path)
        assert any(name == "wallet_http_requests_total" for name, _ in samples)


@pytest.mark.parametrize("module", [backend_app, verifier_app], ids=["backend", "verifier"])
async def test_each_deployable_serves_metrics(served, rt, module):
    app = module.create_app(rt.settings)
    async with _http(_with_state(app, **served.state)) as http:
        await http.get("/healthz")
        samples = await _scrape(http)
    assert (
        _value(samples, "wallet_http_requests_total", method="GET", route="/healthz", status="200")
        >= 1
    )


async def test_requests_are_counted_by_route_template_never_by_path(client):
    ref, id_number = "LAAAAAAAAAAAAAAAA", "210102199003071234"
    before = await _scrape(client)
    for _ in range(2):
        assert (await client.get(f"/api/v1/licences/{ref}/verifications")).status_code == 401
    assert (await client.get(f"/nowhere/{id_number}")).status_code == 404
    assert (await client.request("BREW", f"/nowhere/{id_number}")).status_code == 404
    response = await client.get("/metrics")
    after = _samples(response.text)
    assert (
        ref not in response.text and id_number not in response.text and "BREW" not in response.text
    )
    route = {"method": "GET", "route": "/api/v1/licences/{ref}/verifications"}

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("wallet_http_requests_total", **route, status="401") == 2
    assert delta("wallet_http_request_duration_seconds_count", **route) == 2
    assert delta("wallet_http_request_duration_seconds_bucket", **route, le="+Inf") == 2
    assert delta("wallet_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("wallet_http_requests_total", method="other", route="unmatched", status="404") == 1


async def test_verdicts_and_status_cache_reads_are_counted(scene, client, monkeypatch):
    headers = scene.officer.headers
    before = await _scrape(client)
    qr = await scene.qr()
    assert (await client.post(VERIFY, json={"qr": qr}, headers=headers)).json()[
        "verdict"
    ] == "valid"
    assert (await client.post(VERIFY, json={"qr": "x"}, headers=headers)).json()["verdict"] == (
        "malformed"
    )
    healthy = scene.rt.cache
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr(scene.rt.verifier.probe, "cache", down)
    monkeypatch.setattr(scene.rt.verifier, "cache", down)
    try:
        again = await client.post(VERIFY, json={"qr": await scene.qr()}, headers=headers)
    finally:
        await down.aclose()
        monkeypatch.setattr(scene.rt.verifier, "cache", healthy)
    assert again.json()["verdict"] == "valid"
    after = await _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("wallet_verdicts_total", mode="scan", verdict="valid") == 2
    assert delta("wallet_verdicts_total", mode="scan", verdict="malformed") == 1
    reads = {r: delta("wallet_status_cache_reads_total", result=r) for r in ("hit", "miss")}
    assert sum(reads.values()) == 1  # the malformed scan read nothing
    assert delta("wallet_status_cache_reads_total", result="unavailable") == 1


def _gauge(value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily("wallet_test_backlog", "test", labels=["province"])
    family.add_metric(["210000"], value)
    return family


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _collected(gauges: ScrapeGauges) -> dict:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in gauges.collect()
        for s in family.samples
    }


async def test_scrape_gauges_are_kept_for_the_ttl_and_stale_when_a_source_fails(rt):
    calls: list[int] = []
    failing = False

    async def read(uow):
        calls.append(1)
        if failing:
            raise Unavailable("database down", dependency="database")
        return [_gauge(float(len(calls)))]

    clock = _Clock()
    gauges = ScrapeGauges([Source("test", read)], ttl=30, monotonic=clock)
    await gauges.refresh()
    await gauges.refresh()  # within the TTL: not read again
    seen = _collected(gauges)
    assert len(calls) == 1
    assert seen[("wallet_test_backlog", frozenset({("province", "210000")}))] == 1
    assert seen[("wallet_scrape_stale", frozenset({("source", "test")}))] == 0

    clock.now += 31
    failing = True
    await gauges.refresh()
    seen = _collected(gauges)
    assert len(calls) == 2
    assert seen[("wallet_test_backlog", frozenset({("province", "210000")}))] == 1  # the last
    assert seen[("wallet_scrape_stale", frozenset({("source", "test")}))] == 1
    assert seen[("wallet_scrape_age_seconds", frozenset({("source", "test")}))] == 31

    clock.now += 31
    failing = False
    await gauges.refresh()
    seen = _collected(gauges)
    assert seen[("wallet_test_backlog", frozenset({("province", "210000")}))] == 3
    assert seen[("wallet_scrape_stale", frozenset({("source", "test")}))] == 0


async def test_a_slow_source_is_cut_off_and_marked_stale(rt):
    import asyncio

    async def slow(uow):
        await asyncio.sleep(5)
        return [_gauge(1.0)]

    gauges = ScrapeGauges([Source("slow", slow)], timeout=0.05)
    await gauges.refresh()
    seen = _collected(gauges)
    assert seen[("wallet_scrape_stale", frozenset({("source", "slow")}))] == 1
    assert ("wallet_test_backlog", frozenset({("province", "210000")})) not in seen


async def test_the_scrape_answers_while_the_database_is_down(served, rt):
    async def refused(uow):
        raise ConnectionRefusedError("database down")

    gauges = ScrapeGauges([Source("figures", refused)])
    app = _with_state(served.app, runtime=rt, metrics=gauges)
    async with _http(app) as http:
        samples = await _scrape(http)
    assert _value(samples, "wallet_scrape_stale", source="figures") == 1
    assert any(name == "wallet_http_requests_total" for name, _ in samples)


async def _status(app: Any, client: tuple[str, int], headers: dict[str, str] | None = None) -> int:
    async with _http(app, client) as http:
        return (await http.get("/metrics", headers=headers)).status_code


async def test_metrics_are_closed_to_the_world(served, rt):
    def app(**overrides: Any) -> Any:
        settings = type(rt.settings)(**(rt.settings.model_dump() | overrides))
        state = dict(served.state, runtime=SimpleNamespace(settings=settings))
        return _with_state(served.app, **state)

    default = app()
    assert await _status(default, ("127.0.0.1", 5000)) == 200
    assert await _status(default, ("::1", 5000)) == 200
    assert await _status(default, ("203.0.113.7", 5000)) == 403
    scraper = app(metrics_allow="10.1.0.0/16")
    assert await _status(scraper, ("10.1.2.3", 5000)) == 200
    assert await _status(scraper, ("127.0.0.1", 5000)) == 403
    assert await _status(app(metrics_allow=""), ("127.0.0.1", 5000)) == 403

    tokened = app(metrics_token=TOKEN)
    assert await _status(tokened, ("127.0.0.1", 5000)) == 401
    wrong = {"Authorization": "Bearer " + "n" * 40}
    assert await _status(tokened, ("127.0.0.1", 5000), wrong) == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert await _status(tokened, ("127.0.0.1", 5000), right) == 200
    assert await _status(tokened, ("203.0.113.7", 5000), right) == 403


_WORKER = """
import sys
from wallet import metrics
metrics.VERDICTS.labels(mode="scan", verdict="valid").inc(int(sys.argv[1]))
"""


def test_several_workers_are_summed_in_multiprocess_mode(tmp_path, monkeypatch):
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(count)], env=env) for count in (2, 3)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = _samples(_process_metrics().decode())
    assert _value(samples, "wallet_verdicts_total", mode="scan", verdict="valid") == 5


async def test_backlog_and_province_rates_are_gauges_and_stale_while_the_database_is_down(
    served, rt, monkeypatch
):
    from tests.holder_helpers import driver_body, issue
    from wallet.aggregation.repository import AggregationRepository
    from wallet.aggregation.service import backlog
    from wallet.figures.service import province_rates
    from wallet.uow import read_only

    await issue(rt, [driver_body(141), driver_body(142)])
    async with read_only() as uow:
        expected, rates = await backlog(uow, rt.clock), await province_rates(uow, rt.clock)
    [province] = [row for row in rates if row.division == "210000"]
    gauges = ScrapeGauges(default_sources(rt.clock))
    async with _http(_with_state(served.app, runtime=rt, metrics=gauges)) as http:
        samples = await _scrape(http)
        assert expected.pending >= 2
        assert _value(samples, "wallet_aggregation_backlog_events") == expected.pending
        assert _value(samples, "wallet_aggregation_lag_seconds") >= 0
        assert ("wallet_aggregation_lag_seconds", frozenset()) in samples
        assert _value(samples, "wallet_province_rate", province="210000", rate="issuance") == (
            province.issuance_rate
        )
        assert _value(samples, "wallet_province_rate", province="210000", rate="compliance") == (
            province.compliance_rate
        )
        assert _value(samples, "wallet_scrape_stale", source="aggregation") == 0
        assert _value(samples, "wallet_scrape_stale", source="figures") == 0

        async def refused(self, uow):
            raise ConnectionRefusedError("database down")

        monkeypatch.setattr(AggregationRepository, "pending_count", refused)
        gauges.ttl = 0  # recompute now
        samples = await _scrape(http)
    assert _value(samples, "wallet_scrape_stale", source="aggregation") == 1
    assert _value(samples, "wallet_scrape_stale", source="figures") == 0
    # The last values are still shown, with their age.
    assert _value(samples, "wallet_aggregation_backlog_events") == expected.pending
    assert ("wallet_scrape_age_seconds", frozenset({("source", "aggregation")})) in samples
