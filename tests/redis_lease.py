"""Which Redis database a test run may flush: one per run, leased.

The suite flushes its Redis database before every test, so two runs on one
server must never share one. A run leases its database with a key in
database 0 (``rtel-test:lease:<n>``, value ``host:pid``, expiring after
``LEASE_SECONDS``), which no run uses for its data. ``REDIS_URL`` naming a
database (``redis://host:6379/12``) leases that one and stops the run if
another live run holds it; without one (``redis://host:6379``) the run
leases the first free database of 1–15. A lease whose process on this host
is gone is taken over; the lease is given back when the run ends.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis

LEASE_SECONDS = 12 * 3600
CANDIDATES = range(1, 16)


class RedisBusy(Exception):
    """No database can be leased for this run."""


@dataclass
class Lease:
    url: str
    db: int
    key: str
    owner: str

    def release(self) -> None:
        """Give the database back, unless the lease has passed to another run meanwhile."""
        with _leases(self.url) as leases:
            if leases.get(self.key) == self.owner.encode():
                leases.delete(self.key)


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def _leases(url: str) -> redis.Redis:
    return redis.Redis.from_url(_with_db(url, 0), socket_connect_timeout=3)


def _stale(holder: bytes | None) -> bool:
    if holder is None:
        return True
    host, _, pid = holder.decode(errors="replace").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's run: only its expiry frees it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(leases: redis.Redis, key: str, owner: str) -> bool:
    if leases.set(key, owner, nx=True, ex=LEASE_SECONDS):
        return True
    holder = leases.get(key)
    if holder == owner.encode():
        return True
    if _stale(holder):
        # Take over only the stale value just read (WATCH), never a fresh claim.
        with leases.pipeline() as pipe:
            try:
                pipe.watch(key)
                if pipe.get(key) != holder:
                    return False
                pipe.multi()
                pipe.set(key, owner, ex=LEASE_SECONDS)
                pipe.execute()
                return True
            except redis.WatchError:
                return False
    return False


def lease_database(url: str, owner: str | None = None) -> Lease:
    """Lease the database ``url`` names, or the first free one when it names none."""
    path = urlsplit(url).path.strip("/")
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    if path and not path.isdigit():
        raise RedisBusy(f"REDIS_URL must name a database by number, not {path!r}")
    wanted = [int(path)] if path else list(CANDIDATES)
    if 0 in wanted:
        raise RedisBusy("database 0 holds the test runs' leases: name another (1-15)")
    with _leases(url) as leases:
        for db in wanted:
            key = f"rtel-test:lease:{db}"
            if _claim(leases, key, owner):
                return Lease(_with_db(url, db), db, key, owner)
    if path:
        raise RedisBusy(f"Redis database {path} is in use by another test run")
    raise RedisBusy("every Redis database 1-15 is in use by another test run")
