"""``/metrics`` (Prometheus text format) on both deployables, and the HTTP metrics.

Three kinds of metric are served:

* the HTTP metrics of this module, observed by :mod:`httpkit.middleware` for
  every request, labelled by route *template* (never the path: no ref, no id);
* the domain's counters (:mod:`wallet.metrics`), incremented where things happen;
* gauges computed from the database when scraped (:class:`ScrapeGauges`):
  aggregation backlog and lag, and the four rates per province. They are
  computed at most every :data:`SCRAPE_TTL` seconds per process; when the
  database does not answer, the scrape still answers, with the last values
  and ``wallet_scrape_stale{source}`` at 1.

Access: the scraper's address must be in ``WALLET_METRICS_ALLOW`` (loopback
by default) and, when ``WALLET_METRICS_TOKEN`` is set, it must send that token
as a bearer token. Several worker processes: with ``PROMETHEUS_MULTIPROC_DIR``
set, counters and histograms are summed over the workers
(:class:`prometheus_client.multiprocess.MultiProcessCollector`).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wallet.aggregation.service import backlog
from wallet.clock import Clock
from wallet.errors import Forbidden, Unauthorized
from wallet.figures.service import province_rates
from wallet.settings import Settings
from wallet.uow import UnitOfWork, read_only

__all__ = [
    "REQUESTS",
    "REQUEST_DURATION",
    "SCRAPE_TTL",
    "ScrapeGauges",
    "Source",
    "default_sources",
    "metrics_route",
    "multiprocess_metrics",
    "observe_request",
]

log = logging.getLogger(__name__)

SCRAPE_TTL: Final = 30.0
"""Seconds the gauges computed from the database are kept before a scrape recomputes them."""
SCRAPE_TIMEOUT: Final = 5.0
"""Seconds a source may take; past them the scrape answers its last values, marked stale."""

REQUESTS: Final = Counter(
    "wallet_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_DURATION: Final = Histogram(
    "wallet_http_request_duration_seconds",
    "Time from request to the end of the answer, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request. ``route`` is a template (or ``unmatched``), never a path."""
    if method not in _METHODS:
        method = "other"  # a client may send any token as a method: keep the label set closed
    key = (method, route, status)
    pair = _children.get(key)
    if pair is None:
        pair = _children[key] = (
            REQUESTS.labels(method, route, str(status)),
            REQUEST_DURATION.labels(method, route),
        )
    pair[0].inc()
    pair[1].observe(seconds)


# -- gauges computed at scrape time ------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Gauges read from the database in one go, e.g. the aggregation backlog."""

    name: str
    read: Callable[[UnitOfWork], Awaitable[list[Metric]]]


@dataclass
class _Reading:
    metrics: list[Metric] = field(default_factory=list)
    at: float | None = None  # monotonic time of the last success
    attempted: float = float("-inf")
    stale: bool = True


class ScrapeGauges(Collector):
    """The gauges of ``sources``, recomputed at most every ``ttl`` seconds.

    :meth:`refresh` (awaited by the scrape) reads each source whose values are
    older than ``ttl``, bounded by ``timeout``; a source that fails keeps its
    last values and is marked stale. :meth:`collect` yields what was read,
    plus ``wallet_scrape_stale`` and ``wallet_scrape_age_seconds`` per source.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        ttl: float = SCRAPE_TTL,
        timeout: float = SCRAPE_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources, self.ttl, self.timeout, self.monotonic = (
            list(sources),
            ttl,
            timeout,
            monotonic,
        )
        self._readings = {source.name: _Reading() for source in self.sources}
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Re-read the sources whose values are older than the TTL (one scrape at a time)."""
        async with self._lock:
            for source in self.sources:
                reading = self._readings[source.name]
                if self.monotonic() - reading.attempted < self.ttl:
                    continue
                reading.attempted = self.monotonic()
                try:
                    async with asyncio.timeout(self.timeout), read_only() as uow:
                        metrics = await source.read(uow)
                except Exception as exc:  # any failure: the scrape answers, marked stale
                    log.warning("metrics source %s not read: %s", source.name, type(exc).__name__)
                    reading.stale = True
                else:
                    reading.metrics, reading.at, reading.stale = metrics, self.monotonic(), False

    def collect(self) -> Iterator[Metric]:
        stale = GaugeMetricFamily(
            "wallet_scrape_stale",
            "1 when the last computation of a source's gauges failed (its values are older)",
            labels=["source"],
        )
        age = GaugeMetricFamily(
            "wallet_scrape_age_seconds",
            "Age of the values shown of a source's gauges (absent before its first success)",
            labels=["source"],
        )
        now = self.monotonic()
        for name, reading in self._readings.items():
            stale.add_metric([name], 1.0 if reading.stale else 0.0)
            if reading.at is not None:
                age.add_metric([name], now - reading.at)
            yield from reading.metrics
        yield stale
        yield age


def _aggregation_source(clock: Clock) -> Source:
    async def read(uow: UnitOfWork) -> list[Metric]:
        state = await backlog(uow, clock)
        events = GaugeMetricFamily(
            "wallet_aggregation_backlog_events",
            "Outbox events not yet acknowledged by the ministry endpoint",
        )
        events.add_metric([], float(state.pending))
        lag = GaugeMetricFamily(
            "wallet_aggregation_lag_seconds",
            "Age of the oldest outbox event not yet acknowledged (0 when none waits)",
        )
        lag.add_metric([], state.oldest_age_seconds)
        failing = GaugeMetricFamily(
            "wallet_aggregation_failing_events",
            "Unacknowledged events whose last attempt failed, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(state.failed.items()):
            failing.add_metric([reason], float(count))
        return [events, lag, failing]

    return Source("aggregation", read)


RATES: Final = ("issuance", "activation", "compliance", "aggregation")
"""The four rates of each province (制证率, 激活率, 数据合规率, 归集率)."""


def _figures_source(clock: Clock) -> Source:
    async def read(uow: UnitOfWork) -> list[Metric]:
        gauge = GaugeMetricFamily(
            "wallet_province_rate",
            "The four rates of each province, 0 to 1, all time (absent while a denominator is 0)",
            labels=["province", "rate"],
        )
        for row in await province_rates(uow, clock):
            values = (row.issuance_rate, row.activation_rate, row.compliance_rate)
            for rate, value in zip(RATES, (*values, row.aggregation_rate), strict=True):
                if value is not None:
                    gauge.add_metric([row.division, rate], value)
        return [gauge]

    return Source("figures", read)


def default_sources(clock: Clock) -> list[Source]:
    """The gauges computed from the database: aggregation backlog, the province rates."""
    return [_aggregation_source(clock), _figures_source(clock)]


# -- the endpoint ------------------------------------------------------------------------


def _check_access(request: Request, settings: Settings) -> None:
    """403 unless the client's address is allowed; 401 without the token when one is set."""
    client = request.client
    try:
        address = ipaddress.ip_address(client.host) if client else None
    except ValueError:
        address = None
    if address is None or not any(address in net for net in settings.metrics_networks):
        raise Forbidden("metrics are served to the addresses of WALLET_METRICS_ALLOW only")
    token = settings.metrics_token
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("metrics need the bearer token of WALLET_METRICS_TOKEN")


def multiprocess_metrics(default: Path) -> Path:
    """Before worker processes start: the directory where they count, emptied.

    ``PROMETHEUS_MULTIPROC_DIR`` if set, else ``default`` (and the variable is
    set to it, for the workers to inherit). Files of earlier runs are removed:
    their counts would be added to this run's.
    """
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or default)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def _process_metrics() -> bytes:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def metrics_route(path: str = "/metrics") -> Route:
    """``GET path``: every metric, in the Prometheus text format (not in the OpenAPI document)."""

    async def metrics(request: Request) -> Response:
        _check_access(request, request.state.runtime.settings)
        gauges: ScrapeGauges = request.state.metrics
        await gauges.refresh()
        computed = CollectorRegistry(auto_describe=False)
        computed.register(gauges)
        body = _process_metrics() + generate_latest(computed)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})

    return Route(path, metrics, methods=["GET"], include_in_schema=False, name="metrics")
