"""Aggregation to the ministry (归集): the outbox pushed in signed, idempotent batches.

The worker (:mod:`~wallet.aggregation.worker`) runs the rules of
:class:`~wallet.aggregation.service.Aggregator`; :mod:`~wallet.aggregation.wire`
fixes the request, :mod:`~wallet.aggregation.ministry` sends it and
:mod:`~wallet.aggregation.standin` is a local ministry for tests and development.
"""
