"""The domain's Prometheus counters: the one place they are defined.

Code anywhere in ``wallet/`` increments them where the event happens; the
edge (:mod:`httpkit.metrics`) serves them at ``/metrics`` with the HTTP
metrics and the gauges computed at scrape time (aggregation backlog and lag,
the four rates per province). Every metric and label is listed in the
README's "Metrics and logs" section: add a line there with each new one.

Rules for labels: a closed, small set of values each (a verdict, a reason
code, a notification kind, a division code), never an identifier (a licence
ref, an openid, an event id) and never personal data.

How to count::

    from wallet import metrics

    metrics.NOTIFICATIONS_SENT.labels(kind="status").inc()
    metrics.NOTIFICATIONS_FAILED.labels(kind="expiry_30").inc()
    metrics.AGGREGATION_EVENTS_PUSHED.inc(len(batch))        # acknowledged events
    metrics.AGGREGATION_BATCHES_PUSHED.inc()
    metrics.AGGREGATION_BATCH_FAILURES.labels(reason="timeout").inc()

``kind`` is the notification's kind (``status``, ``version``, ``expiry_30``,
``expiry_7``, ``access``), ``reason`` the failure code of the push
(``timeout``, ``connection``, ``http_5xx``, ``http_4xx``, ``body_error``,
``bad_response``, ``no_seal_key``). Counters only
go up; a value per process (see the README for several workers). This module
imports nothing of the domain, so any package may import it.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

__all__ = [
    "AGGREGATION_BATCHES_PUSHED",
    "AGGREGATION_BATCH_FAILURES",
    "AGGREGATION_EVENTS_PUSHED",
    "NOTIFICATIONS_FAILED",
    "NOTIFICATIONS_SENT",
    "STATUS_CACHE_READS",
    "VERDICTS",
]

VERDICTS: Final = Counter(
    "wallet_verdicts",
    "Verifications answered, by mode (scan, offline, lookup) and verdict",
    ["mode", "verdict"],
)
"""Counted where each verification is logged, so never an answer without a count."""

STATUS_CACHE_READS: Final = Counter(
    "wallet_status_cache_reads",
    "Live-status cache reads on the verification path: hit, miss (the database "
    "answers) or unavailable (the cache did not answer)",
    ["result"],
)

NOTIFICATIONS_SENT: Final = Counter(
    "wallet_notifications_sent",
    "Holder notifications delivered to WeChat, by kind",
    ["kind"],
)
NOTIFICATIONS_FAILED: Final = Counter(
    "wallet_notifications_failed",
    "Holder notification attempts that failed, by kind (retries count each time)",
    ["kind"],
)

AGGREGATION_EVENTS_PUSHED: Final = Counter(
    "wallet_aggregation_events_pushed",
    "Outbox events acknowledged by the ministry endpoint",
)
AGGREGATION_BATCHES_PUSHED: Final = Counter(
    "wallet_aggregation_batches_pushed",
    "Batches acknowledged by the ministry endpoint",
)
AGGREGATION_BATCH_FAILURES: Final = Counter(
    "wallet_aggregation_batch_failures",
    "Batches the ministry endpoint did not acknowledge, by reason",
    ["reason"],
)
