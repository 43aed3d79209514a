"""The doctor: is this deployment safe to open? One :class:`Check` per question.

:func:`examine` answers, in order: the data directory, the master key (present,
not readable by others), the database (reachable, migrated, its clock within
:data:`CLOCK_TOLERANCE` of ours), the cache (reachable, and a mode this
service speaks), the signing keys (the master key opens one of each use; a
root, a presentation, a copy and a seal key for each province, none
expiring within :data:`EXPIRY_MARGIN`), the identity provider and WeChat.
Every check catches its own failure and says what to fix; a check that needs
something an earlier one found missing says so instead of running. Nothing is
created or changed: the doctor only reads (the WeChat probe asks for the
stable access token, which leaves the service's token valid).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pkgutil
import re
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from wallet import migrations
from wallet.cache import is_cluster, open_cache
from wallet.clock import Clock, SystemClock
from wallet.crypto import sm2_backend
from wallet.db import close_database, open_database
from wallet.errors import WalletError
from wallet.identifiers import province_division
from wallet.keys.models import KeyUse
from wallet.keys.service import KeyStore
from wallet.masterkey import load_master_key
from wallet.operating import repository as ops
from wallet.settings import Settings
from wallet.uow import UnitOfWork, read_only

__all__ = [
    "CLOCK_TOLERANCE",
    "DEV_WECHAT_APP_ID",
    "DEV_WECHAT_SECRET",
    "EXPIRY_MARGIN",
    "Check",
    "dialect_of",
    "examine",
    "master_key_source",
    "tortoise_query",
]

CLOCK_TOLERANCE: Final = 2.0
"""Seconds the database's clock may differ from ours (QR windows are 30 s of skew)."""
EXPIRY_MARGIN: Final = timedelta(days=30)
"""A key ending within this is a failure: there must be time to rotate it."""
TIMEOUT: Final = 5.0
DEV_WECHAT_APP_ID: Final = "wx0000000000000000"
DEV_WECHAT_SECRET: Final = "dev-secret"  # noqa: S105 - the development default, refused here
_PLATFORM_USES: Final = (KeyUse.ROOT, KeyUse.PRESENTATION, KeyUse.COPY)
_MIGRATION_NAME = re.compile(r"[0-9]{4}_[a-z0-9_]+")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's answer: the check's name, whether it passed, why, what to do."""

    check: str
    ok: bool
    detail: str
    fix: str = ""

    def as_row(self) -> dict[str, Any]:
        """The check as a JSON object."""
        return asdict(self)


def tortoise_query(uow: UnitOfWork) -> ops.Query:
    """A :data:`~wallet.operating.repository.Query` over a unit of work's connection."""

    async def query(sql: str) -> list[tuple[Any, ...]]:
        _, rows = await uow.conn.execute_query(sql)
        return [tuple(row.values()) if isinstance(row, Mapping) else tuple(row) for row in rows]

    return query


def dialect_of(uow: UnitOfWork) -> ops.Dialect:
    """The SQL dialect of a unit of work's connection."""
    return "postgres" if uow.is_postgres else "sqlite"


def master_key_source(settings: Settings) -> tuple[str, Path | None]:
    """Where the master key comes from: a description, and its file (``None`` from the env)."""
    if settings.master_key:
        return "WALLET_MASTER_KEY (environment)", None
    if settings.master_key_file is not None:
        return f"WALLET_MASTER_KEY_FILE {settings.master_key_file}", settings.master_key_file
    path = settings.data_dir / "master.key"
    return f"{path} (the data directory's)", path


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class _Doctor:
    def __init__(
        self,
        settings: Settings,
        provinces: Sequence[str],
        environ: Mapping[str, str],
        clock: Clock,
        wechat_transport: httpx.AsyncBaseTransport | None,
        open_db: bool = True,
        cache: Redis | None = None,
    ) -> None:
        self.settings = settings
        self.open_db = open_db
        self.given_cache = cache
        self.provinces = list(provinces)
        self.environ = environ
        self.clock = clock
        self.wechat_transport = wechat_transport
        self.checks: list[Check] = []
        self.master_key: bytes | None = None
        self.database_ok = False

    def add(self, check: str, ok: bool, detail: str, fix: str = "") -> None:
        self.checks.append(Check(check, ok, detail, "" if ok else fix))

    @contextlib.asynccontextmanager
    async def guard(self, check: str, fix: str) -> AsyncIterator[None]:
        """Run one check's body; any failure (or a hang) becomes that check's FAIL line."""
        try:
            async with asyncio.timeout(TIMEOUT):
                yield
        except TimeoutError:
            self.add(check, False, f"no answer within {TIMEOUT:.0f} s", fix)
        except WalletError as exc:
            self.add(check, False, exc.detail, fix)
        except Exception as exc:  # a failing check reports, never crashes the doctor
            self.add(check, False, f"{type(exc).__name__}: {exc}"[:300], fix)

    # --- files ------------------------------------------------------------------

    def data_dir(self) -> None:
        raw = self.environ.get("WALLET_DATA_DIR")
        path = self.settings.data_dir
        if raw is not None and not Path(raw).is_absolute():
            self.add(
                "data_dir",
                False,
                f"WALLET_DATA_DIR={raw} is relative (here it means {path}): it moves with "
                "the working directory",
                f"set WALLET_DATA_DIR to an absolute path, e.g. WALLET_DATA_DIR={path}",
            )
            return
        if raw is None and not self.settings.is_embedded:
            self.add(
                "data_dir",
                False,
                f"WALLET_DATA_DIR is unset (here it means {path}); the verification spool "
                "lives there",
                f"set WALLET_DATA_DIR to an absolute path, e.g. WALLET_DATA_DIR={path}",
            )
            return
        if path.exists() and not (path.is_dir() and os.access(path, os.W_OK | os.X_OK)):
            self.add(
                "data_dir",
                False,
                f"{path} is not a writable directory",
                f"make {path} a directory this service's user can write",
            )
            return
        where = "the embedded default, resolved at start" if raw is None else "absolute"
        self.add("data_dir", True, f"{path} ({where})")

    def master_key_file(self) -> None:
        source, path = master_key_source(self.settings)
        fix = "set WALLET_MASTER_KEY_FILE to a file holding 64 hex characters"
        if path is not None and not path.exists():
            if self.settings.is_embedded_database and self.settings.master_key_file is None:
                fix = "run `wallet migrate` (it makes the development key on the embedded defaults)"
            self.add("master_key", False, f"no master key: {source} does not exist", fix)
            return
        if path is not None:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                self.add(
                    "master_key",
                    False,
                    f"{path} has mode {mode:04o}: others can read or change it",
                    f"chmod 600 {path} (owned by the service's user)",
                )
                return
        try:
            self.master_key = load_master_key(self.settings)
        except WalletError as exc:
            self.add("master_key", False, exc.detail, fix)
            return
        self.add("master_key", True, f"from {source}" + ("" if path is None else ", mode 0600"))

    # --- database -----------------------------------------------------------------

    async def database(self) -> None:
        where = _redacted(self.settings.database_url)
        async with self.guard("database", f"start the database or correct DATABASE_URL ({where})"):
            if self.open_db:
                await open_database(self.settings)
            async with read_only() as uow:
                await tortoise_query(uow)("SELECT 1")
            self.database_ok = True
            kind = "SQLite" if self.settings.is_embedded_database else "PostgreSQL"
            self.add("database", True, f"{kind} at {where} answers")

    def _needs_database(self, check: str) -> bool:
        if not self.database_ok:
            self.add(check, False, "not checked: the database does not answer", "fix `database`")
        return self.database_ok

    async def migrated(self) -> None:
        if not self._needs_database("migrations"):
            return
        known = sorted(
            m.name
            for m in pkgutil.iter_modules(migrations.__path__)
            if _MIGRATION_NAME.fullmatch(m.name)
        )
        async with self.guard("migrations", "run `wallet migrate`"):
            async with read_only() as uow:
                query = tortoise_query(uow)
                dialect = dialect_of(uow)
                applied = set(await ops.applied_migrations(query, dialect))
            pending = [name for name in known if name not in applied]
            if pending:
                self.add(
                    "migrations",
                    False,
                    f"{len(pending)} of {len(known)} pending: {', '.join(pending)}",
                    "run `wallet migrate`",
                )
            else:
                self.add("migrations", True, f"all {len(known)} applied (last {known[-1]})")

    async def clock_skew(self) -> None:
        if not self._needs_database("clock"):
            return
        async with self.guard("clock", "synchronise both clocks (NTP, e.g. chrony)"):
            async with read_only() as uow:
                query = tortoise_query(uow)
                dialect = dialect_of(uow)
                before = self.clock.now().timestamp()
                theirs = await ops.database_time(query, dialect)
                after = self.clock.now().timestamp()
            skew = theirs - (before + after) / 2
            detail = f"database {skew:+.3f} s from this host (round trip {after - before:.3f} s)"
            if abs(skew) > CLOCK_TOLERANCE:
                self.add(
                    "clock",
                    False,
                    detail + f", more than {CLOCK_TOLERANCE:.0f} s",
                    "synchronise both clocks (NTP, e.g. chrony)",
                )
            else:
                self.add("clock", True, detail)

    # --- cache --------------------------------------------------------------------

    async def cache(self) -> None:
        url = self.settings.redis_url
        if url is None:
            self.add("cache", True, "in-process store (REDIS_URL unset): one process only")
            return
        cache: Redis = self.given_cache or open_cache(self.settings)
        where = _redacted(url)
        try:
            async with self.guard("cache", f"start Redis or correct REDIS_URL ({where})"):
                await cache.ping()
                info = await cache.info("cluster")
                enabled = bool(int(info.get("cluster_enabled", 0)))
                if enabled == is_cluster(self.settings):
                    shape = "a Redis Cluster" if enabled else "standalone"
                    self.add("cache", True, f"Redis at {where} answers ({shape})")
                elif enabled:
                    self.add(
                        "cache",
                        False,
                        f"Redis at {where} runs in cluster mode, but REDIS_URL names a "
                        "standalone Redis (every key would be sent to one node)",
                        "name the cluster: REDIS_URL=redis+cluster://host:port "
                        "(or WALLET_REDIS_CLUSTER=true)",
                    )
                else:
                    self.add(
                        "cache",
                        False,
                        f"REDIS_URL names a Redis Cluster, but Redis at {where} is standalone",
                        "use redis://host:port for a standalone Redis",
                    )
        finally:
            if self.given_cache is None:
                await cache.aclose()

    # --- keys ---------------------------------------------------------------------

    async def keys(self) -> None:
        if not self._needs_database("keys"):
            return
        async with self.guard("keys", "run `wallet keys init --province XX0000`"):
            store = KeyStore(
                self.master_key or bytes(32), sm2_backend(self.settings.sm2_backend), self.clock
            )
            async with read_only() as uow:
                query = tortoise_query(uow)
                rows = await ops.key_rows(query)
                divisions = await ops.issuer_divisions(query)
                await self._slots(uow, store, rows, divisions)

    async def _slots(
        self,
        uow: UnitOfWork,
        store: KeyStore,
        rows: Sequence[Mapping[str, Any]],
        divisions: Sequence[str],
    ) -> None:
        provinces = sorted(
            {province_division(d) for d in divisions}
            | {str(r["division"]) for r in rows if r["use"] == KeyUse.SEAL and r["division"]}
            | {province_division(p) for p in self.provinces}
        )
        if not provinces:
            self.add(
                "keys",
                False,
                "no province is configured: no seal key and no licence",
                "run `wallet keys init --province XX0000` for each issuing province",
            )
        slots: list[tuple[KeyUse, str | None]] = [(use, None) for use in _PLATFORM_USES]
        slots += [(KeyUse.SEAL, province) for province in provinces]
        horizon = self.clock.now() + EXPIRY_MARGIN
        opened: set[str] = set()
        for use, division in slots:
            name = f"key {use}" + (f" {division}" if division else "")
            fix = (
                f"run `wallet keys init --province {division}`"
                if division
                else "run `wallet keys init`"
            )
            row = await store.repository.in_slot(uow, f"{use}:{division or ''}")
            if row is None:
                self.add(name, False, "no active key", fix + " (or `wallet keys rotate`)")
                continue
            ends = row.not_after
            if ends is not None and ends <= horizon:
                self.add(
                    name,
                    False,
                    f"{row.kid} ends {ends.astimezone(UTC):%Y-%m-%d %H:%M}Z, within "
                    f"{EXPIRY_MARGIN.days} days",
                    f"run `wallet keys rotate --use {use}"
                    + (f" --division {division}`" if division else "`"),
                )
                continue
            detail = f"{row.kid} active" + ("" if ends is None else f" until {ends:%Y-%m-%d}")
            if self.master_key is not None and use not in opened:
                # One unwrapping per use proves the master key opens what the database holds.
                try:
                    await store.active_key(uow, use, division)
                except WalletError as exc:
                    self.add(
                        name,
                        False,
                        exc.detail,
                        "give the service the master key these keys were made with "
                        "(WALLET_MASTER_KEY or WALLET_MASTER_KEY_FILE)",
                    )
                    continue
                opened.add(use)
                detail += ", opens with the master key"
            self.add(name, True, detail)
        if self.master_key is None:
            self.add(
                "keys unwrap",
                False,
                "not checked: no master key",
                "fix `master_key`",
            )

    # --- identity and WeChat --------------------------------------------------------------

    @property
    def _standin(self) -> bool:
        host = urlsplit(self.settings.wechat_api_base).hostname or ""
        return host in _LOOPBACK

    @property
    def _development(self) -> bool:
        return self.settings.is_embedded or self.settings.deployment == "test"

    def identity(self) -> None:
        settings = self.settings
        if settings.identity_provider == "registry":
            # Settings refuse it elsewhere; the doctor says what it means where it runs.
            where = "the embedded defaults" if settings.is_embedded else "a test deployment"
            self.add(
                "identity",
                True,
                f"registry (development: binds whoever knows a holder's name and ID number) "
                f"on {where}; never where real holders sign in",
            )
            return
        if self._standin and not self._development:
            self.add(
                "identity",
                False,
                f"wechat_face, but face results come from {settings.wechat_api_base}, a local "
                "stand-in that confirms anyone",
                "set WALLET_WECHAT_API_BASE=https://api.weixin.qq.com",
            )
            return
        self.add("identity", True, "wechat_face (WeChat face verification)")

    async def wechat(self) -> None:
        settings = self.settings
        base = settings.wechat_api_base.rstrip("/") + "/"
        dev_credentials = (
            settings.wechat_app_id == DEV_WECHAT_APP_ID
            or settings.wechat_app_secret == DEV_WECHAT_SECRET
            or not settings.wechat_app_id
            or not settings.wechat_app_secret
        )
        fix = "set WALLET_WECHAT_APP_ID and WALLET_WECHAT_APP_SECRET to the mini-program's"
        if dev_credentials and not self._development:
            self.add("wechat", False, "the app id or secret is the development default", fix)
            return
        if self._standin and not self._development:
            self.add(
                "wechat",
                False,
                f"WALLET_WECHAT_API_BASE={base} is a local stand-in, not WeChat",
                "set WALLET_WECHAT_API_BASE=https://api.weixin.qq.com",
            )
            return
        reached = await self._token_probe(base)
        if self._standin:
            # Development: the stand-in is named; whether it runs now is only noted.
            state = "it issues tokens" if reached is None else f"now {reached}"
            self.add(
                "wechat",
                True,
                f"the development stand-in at {base} ({state}; start it with "
                "`python -m wallet.wechat.standin --port 8089`)",
            )
            return
        if reached is not None:
            self.add("wechat", False, f"token endpoint {base}cgi-bin/stable_token: {reached}", fix)
            return
        self.add("wechat", True, f"app {settings.wechat_app_id}: {base} issues access tokens")

    async def _token_probe(self, base: str) -> str | None:
        """``None`` when the token endpoint hands out a token; otherwise why not."""
        body = {
            "grant_type": "client_credential",
            "appid": self.settings.wechat_app_id,
            "secret": self.settings.wechat_app_secret,
            "force_refresh": False,
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self.wechat_transport) as http:
                response = await http.post(base + "cgi-bin/stable_token", json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"unreachable ({type(exc).__name__})"
        if isinstance(answer, dict) and answer.get("access_token"):
            return None
        if isinstance(answer, dict) and "errcode" in answer:
            # errmsg never carries the secret; the token itself is never printed.
            return f"refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}".strip()
        return f"answered HTTP {response.status_code} without a token"


async def examine(
    settings: Settings,
    *,
    provinces: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    wechat_transport: httpx.AsyncBaseTransport | None = None,
    open_db: bool = True,
    cache: Redis | None = None,
) -> list[Check]:
    """Run every check against the deployment ``settings`` describe; the checks in order.

    ``provinces`` adds provinces whose seal keys must exist besides those the
    database names (seal keys made, licences issued); ``environ`` is where
    the raw ``WALLET_DATA_DIR`` is read (default: the process environment);
    ``wechat_transport`` replaces the HTTP transport of the WeChat probe and
    ``cache`` the Redis client. The database is opened and closed here,
    unless ``open_db`` is false (the caller has it open and keeps it).
    """
    doctor = _Doctor(
        settings,
        provinces,
        os.environ if environ is None else environ,
        clock or SystemClock(),
        wechat_transport,
        open_db,
        cache,
    )
    steps: list[Callable[[], Awaitable[None] | None]] = [
        doctor.data_dir,
        doctor.master_key_file,
        doctor.database,
        doctor.migrated,
        doctor.clock_skew,
        doctor.cache,
        doctor.keys,
        doctor.identity,
        doctor.wechat,
    ]
    try:
        for step in steps:
            outcome = step()
            if outcome is not None:
                await outcome
    finally:
        if open_db:
            with contextlib.suppress(Exception):
                await close_database()
    return doctor.checks
