"""Two test runs on one Redis server never share (and so never flush) one database.

Services leg only: the root conftest does not collect this module without ``REDIS_URL``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import redis

from tests.redis_lease import RedisBusy, lease_database

OTHER_RUN = """
import sys
from tests.redis_lease import RedisBusy, lease_database
try:
    lease = lease_database(sys.argv[1])
except RedisBusy as exc:
    print("busy", exc)
else:
    print("leased", lease.db)
    lease.release()
"""


def _other_run(url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_RUN, url], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _server(url: str) -> str:
    return url.rsplit("/", 1)[0]


def test_this_runs_database_is_leased_to_it(settings):
    assert settings.redis_url is not None
    db = int(settings.redis_url.rsplit("/", 1)[1])
    leases = redis.Redis.from_url(_server(settings.redis_url) + "/0")
    with leases:
        assert (
            leases.get(f"rtel-test:lease:{db}") == f"{socket.gethostname()}:{os.getpid()}".encode()
        )
        assert leases.ttl(f"rtel-test:lease:{db}") > 0


def test_another_run_cannot_have_it_and_is_given_a_free_one(settings):
    assert settings.redis_url is not None
    db = settings.redis_url.rsplit("/", 1)[1]
    assert _other_run(settings.redis_url).startswith(f"busy Redis database {db} is in use")
    answer = _other_run(_server(settings.redis_url))
    assert answer.startswith("leased ") and answer != f"leased {db}", answer


def test_a_dead_runs_lease_is_taken_over_and_given_back(settings):
    assert settings.redis_url is not None
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    ghost = f"{socket.gethostname()}:{dead.stdout.strip()}"
    free = lease_database(_server(settings.redis_url), owner=ghost)  # a run that then died
    try:
        url = f"{_server(settings.redis_url)}/{free.db}"
        assert _other_run(url) == f"leased {free.db}"
        with redis.Redis.from_url(_server(settings.redis_url) + "/0") as leases:
            assert leases.get(free.key) is None  # released by the run that took it over
    finally:
        free.release()


def test_database_zero_is_refused():
    with pytest.raises(RedisBusy, match="database 0"):
        lease_database("redis://127.0.0.1:6379/0")
