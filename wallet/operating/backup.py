"""Backups of the database and their restore drill.

A backup is a directory: the database's snapshot (``database.dump``,
``pg_dump`` custom format, on PostgreSQL; ``database.sqlite3``, a copy made
by SQLite's online backup API, on the embedded defaults) and
``manifest.json``: the snapshot's size and SM3 digest, the row count of every
table, the applied migrations, the audit chain's head and the signing keys'
public parts. Counts and snapshot describe the same moment: on PostgreSQL
the manifest is read inside a repeatable-read transaction whose snapshot
``pg_dump --snapshot`` then dumps; on SQLite it is read from the copy. The
master key is never in a backup (the database holds only wrapped keys and
sealed values): a restore needs it given separately.

:func:`restore` restores only into an empty database, then
:func:`verify_restored` checks it: the row counts match the manifest, the
audit chain verifies from its first entry to the recorded head, the keys are
the manifest's and the master key opens them, and every licence version's
seal verifies under its key.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import asyncpg
import orjson
from cryptography.hazmat.primitives import hashes

from wallet.audit.service import verify_chain
from wallet.crypto import SM2Backend, parse_public_key_hex
from wallet.errors import CryptoError, WalletError
from wallet.identifiers import province_division
from wallet.keys.models import KeyUse
from wallet.keys.service import KeyStore
from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.models import LicenceVersion
from wallet.licences.seal import verify_seal
from wallet.operating import repository as ops
from wallet.operating.doctor import Check, dialect_of, tortoise_query
from wallet.settings import Settings
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = [
    "BACKUP_FORMAT",
    "MANIFEST",
    "BackupError",
    "backup",
    "find_pg_tool",
    "read_manifest",
    "restore",
    "verify_restored",
]

BACKUP_FORMAT: Final = "rtel-wallet-backup/1"
MANIFEST: Final = "manifest.json"
PG_DUMP: Final = "database.dump"
SQLITE_COPY: Final = "database.sqlite3"
_SEAL_BATCH = 500
_VERSION = re.compile(r"\(PostgreSQL\) ([0-9]+)")


class BackupError(WalletError):
    """A backup cannot be made, read or restored (the message says what to do)."""

    type_code = "backup"
    title = "Backup or restore failed"


# --- the snapshot's contents ------------------------------------------------------------


def sm3_file(path: Path) -> str:
    """The SM3 digest (hex) of a file, read in chunks."""
    digest = hashes.Hash(hashes.SM3())
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.finalize().hex()


async def _contents(query: ops.Query, dialect: ops.Dialect) -> dict[str, Any]:
    tables = await ops.list_tables(query, dialect)
    head = await ops.audit_head(query) if "audit_head" in tables else None
    return {
        "tables": await ops.count_rows(query, tables),
        "migrations": await ops.applied_migrations(query, dialect),
        "audit": None if head is None else {"last_id": head[0], "last_hash": head[1]},
        "keys": await ops.key_rows(query) if "signing_key" in tables else [],
    }


def _write_manifest(out: Path, manifest: Mapping[str, Any]) -> None:
    path = out / MANIFEST
    path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in directory ``source``, its snapshot's digest checked."""
    try:
        manifest = orjson.loads((source / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read ({type(exc).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{source} is not a backup of this service ({BACKUP_FORMAT})")
    dump = source / str(manifest["snapshot"]["file"])
    if not dump.is_file():
        raise BackupError(f"the snapshot {dump} is missing")
    if sm3_file(dump) != manifest["snapshot"]["sm3"]:
        raise BackupError(f"the snapshot {dump} differs from the one the manifest describes")
    return manifest


def _prepare_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} exists and is not an empty directory: choose a new one")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)


# --- PostgreSQL tools -------------------------------------------------------------------


def _tool_major(path: str) -> int | None:
    try:
        text = subprocess.run(  # noqa: S603 - a PostgreSQL tool found on this machine
            [path, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(text)
    return int(found.group(1)) if found else None


def find_pg_tool(name: str, server_major: int, bindir: Path | None = None) -> Path:
    """The ``pg_dump`` or ``pg_restore`` to use against a server of ``server_major``.

    ``bindir`` when given; else the newest of ``PATH`` and
    ``/usr/lib/postgresql/*/bin`` (Debian keeps one directory per version,
    ``PATH`` usually holds a wrapper) whose major version is at least the
    server's: an older client refuses a newer server's dump.
    """
    if bindir is not None:
        candidates = [str(bindir / name)]
    else:
        candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
        on_path = shutil.which(name)
        if on_path:
            candidates.append(on_path)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        major = _tool_major(candidate)
        if major is not None and major >= server_major and (best is None or major > best[0]):
            best = (major, candidate)
    if best is None:
        raise BackupError(
            f"no {name} of PostgreSQL {server_major} or newer on this machine: install the "
            f"client tools (postgresql-client-{server_major}) or pass --pg-bin DIR"
        )
    return Path(best[1])


def _pg_parts(url: str) -> tuple[str, dict[str, str]]:
    """An asyncpg DSN (no query options) and the libpq environment for ``url``."""
    parts = urlsplit(url)
    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": unquote(parts.path.lstrip("/")),
    }
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    dsn = f"postgresql://{parts.netloc}{parts.path}"
    return dsn, env


async def _run_tool(tool: Path, args: Sequence[str], env: Mapping[str, str]) -> None:
    # The password travels in the environment, never on the command line.
    proc = await asyncio.create_subprocess_exec(
        str(tool),
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{tool.name} failed: {' '.join(message[-3:])[:400]}")


async def _pg_connect(url: str) -> asyncpg.Connection:
    dsn, _ = _pg_parts(url)
    try:
        return await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"the database does not answer ({type(exc).__name__})") from None


def _asyncpg_query(conn: asyncpg.Connection) -> ops.Query:
    async def query(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await conn.fetch(sql)]

    return query


# --- backup -----------------------------------------------------------------------------


async def _backup_postgres(settings: Settings, out: Path, bindir: Path | None) -> dict[str, Any]:
    _, env = _pg_parts(settings.database_url)
    conn = await _pg_connect(settings.database_url)
    try:
        server_major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        tool = find_pg_tool("pg_dump", server_major, bindir)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            contents = await _contents(_asyncpg_query(conn), "postgres")
            # pg_dump reads the very snapshot the counts were taken in.
            await _run_tool(
                tool,
                ["--format=custom", f"--snapshot={snapshot}", f"--file={out / PG_DUMP}"],
                env,
            )
    finally:
        await conn.close()
    return {"database": "postgres", "server_major": server_major, **contents}


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # One self-contained file: the copy leaves the source's WAL mode behind.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_query(path: Path) -> tuple[sqlite3.Connection, ops.Query]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    async def query(sql: str) -> list[tuple[Any, ...]]:
        return list(conn.execute(sql).fetchall())

    return conn, query


async def _backup_sqlite(settings: Settings, out: Path) -> dict[str, Any]:
    source = settings.database_file
    if source is None or not source.is_file():
        raise BackupError(f"no SQLite database at {source}: nothing to back up")
    copy = out / SQLITE_COPY
    await asyncio.to_thread(_sqlite_copy, source, copy)
    conn, query = _sqlite_query(copy)
    try:
        contents = await _contents(query, "sqlite")
    finally:
        conn.close()
    return {"database": "sqlite", **contents}


async def backup(
    settings: Settings, out: Path, *, now: datetime, pg_bin: Path | None = None
) -> dict[str, Any]:
    """Write a backup of the settings' database to the new directory ``out``; its manifest."""
    _prepare_out(out)
    if settings.is_embedded_database:
        contents = await _backup_sqlite(settings, out)
        snapshot = out / SQLITE_COPY
    else:
        contents = await _backup_postgres(settings, out, pg_bin)
        snapshot = out / PG_DUMP
    snapshot.chmod(0o600)
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": now.isoformat(timespec="seconds"),
        "snapshot": {
            "file": snapshot.name,
            "bytes": snapshot.stat().st_size,
            "sm3": sm3_file(snapshot),
        },
        **contents,
    }
    _write_manifest(out, manifest)
    return manifest


# --- restore ----------------------------------------------------------------------------


async def _restore_postgres(
    settings: Settings, source: Path, manifest: Mapping[str, Any], bindir: Path | None
) -> None:
    _, env = _pg_parts(settings.database_url)
    conn = await _pg_connect(settings.database_url)
    try:
        server_major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        tables = await ops.list_tables(_asyncpg_query(conn), "postgres")
    finally:
        await conn.close()
    if tables:
        raise BackupError(
            f"the database {env['PGDATABASE']} is not empty ({len(tables)} tables): restore "
            "into a new one (createdb NAME, then DATABASE_URL=.../NAME)"
        )
    tool = find_pg_tool(
        "pg_restore", max(server_major, int(manifest.get("server_major", 0))), bindir
    )
    await _run_tool(
        tool,
        [
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={env['PGDATABASE']}",
            str(source / PG_DUMP),
        ],
        env,
    )


def _restore_sqlite(settings: Settings, source: Path) -> None:
    target = settings.database_file
    if target is None:
        raise BackupError("DATABASE_URL names no SQLite file to restore into")
    if target.exists() and target.stat().st_size > 0:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        finally:
            conn.close()
        if tables:
            raise BackupError(
                f"{target} is not empty ({tables} tables): restore into a new file "
                "(DATABASE_URL=sqlite:///path/new.sqlite3)"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(source / SQLITE_COPY, target)


async def restore(
    settings: Settings, source: Path, *, pg_bin: Path | None = None
) -> dict[str, Any]:
    """Restore the backup in ``source`` into the settings' database, which must be empty.

    The manifest and the snapshot's digest are checked first; the snapshot
    must come from the same kind of database. Returns the manifest, for
    :func:`verify_restored`.
    """
    manifest = read_manifest(source)
    kind = "sqlite" if settings.is_embedded_database else "postgres"
    if manifest["database"] != kind:
        raise BackupError(
            f"this is a backup of a {manifest['database']} database; DATABASE_URL names {kind}"
        )
    if kind == "sqlite":
        await asyncio.to_thread(_restore_sqlite, settings, source)
    else:
        await _restore_postgres(settings, source, manifest, pg_bin)
    return manifest


# --- verification -----------------------------------------------------------------------


async def _seal_check(
    uow: UnitOfWork,
    vault: Vault,
    sm2: SM2Backend,
    public_keys: Mapping[str, bytes],
    progress: Callable[[int], None] | None,
) -> Check:
    checked, bad, last_id = 0, [], None
    while True:
        query = LicenceVersion.all().using_db(uow.conn).order_by("id").limit(_SEAL_BATCH)
        if last_id is not None:
            query = query.filter(id__gt=last_id)
        rows = await query.values_list("id", "document_sealed", "seal", "seal_kid")
        if not rows:
            break
        for version_id, sealed, seal, kid in rows:
            public_key = public_keys.get(kid)
            try:
                document = vault.open(sealed, DOCUMENT_CONTEXT).encode()
                good = public_key is not None and verify_seal(document, seal, public_key, sm2)
            except CryptoError:
                good = False
            if not good:
                bad.append(str(version_id))
            checked += 1
        last_id = rows[-1][0]
        if progress is not None:
            progress(checked)
    if bad:
        return Check(
            "seals",
            False,
            f"{len(bad)} of {checked} licence versions fail their seal "
            f"(first: {', '.join(bad[:3])})",
            "do not open this database: restore an earlier backup",
        )
    return Check("seals", True, f"all {checked} licence versions' seals verify")


async def verify_restored(
    uow: UnitOfWork,
    manifest: Mapping[str, Any],
    *,
    vault: Vault,
    keys: KeyStore,
    progress: Callable[[int], None] | None = None,
) -> list[Check]:
    """Check a restored database against its backup's manifest; one :class:`Check` per question.

    ``vault`` and ``keys`` are built on the master key given for the restore;
    ``progress`` hears the count of seals checked so far.
    """
    query = tortoise_query(uow)
    contents = await _contents(query, dialect_of(uow))
    checks: list[Check] = []
    expected: Mapping[str, int] = manifest["tables"]
    differ = [
        f"{table} {contents['tables'].get(table)}≠{count}"
        for table, count in expected.items()
        if contents["tables"].get(table) != count
    ] + [f"{table} (not in the backup)" for table in contents["tables"] if table not in expected]
    checks.append(
        Check("counts", False, "differ: " + ", ".join(differ[:5]), "restore again")
        if differ
        else Check(
            "counts", True, f"{len(expected)} tables, {sum(expected.values())} rows as recorded"
        )
    )

    report = await verify_chain(uow)
    head = manifest.get("audit")
    if not report.ok:
        checks.append(
            Check(
                "audit",
                False,
                f"chain broken at entry {report.broken_at}: {report.reason}",
                "do not open this database: restore an earlier backup",
            )
        )
    elif contents["audit"] != head:
        checks.append(
            Check(
                "audit",
                False,
                f"the chain ends at {contents['audit']}, the manifest recorded {head}",
                "do not open this database: restore an earlier backup",
            )
        )
    else:
        checks.append(
            Check(
                "audit", True, f"chain verifies over {report.entries} entries to the recorded head"
            )
        )

    restored = {k["kid"]: k for k in contents["keys"]}
    recorded = {k["kid"]: k for k in manifest["keys"]}
    if restored != recorded:
        checks.append(
            Check("keys", False, "the signing keys differ from the manifest's", "restore again")
        )
    else:
        checks.append(await _unwrap_check(uow, keys, list(recorded.values())))

    public_keys = {kid: parse_public_key_hex(k["pub"]) for kid, k in restored.items()}
    checks.append(await _seal_check(uow, vault, keys.sm2, public_keys, progress))
    return checks


async def _unwrap_check(
    uow: UnitOfWork, keys: KeyStore, rows: Sequence[Mapping[str, Any]]
) -> Check:
    slots = {
        (str(r["use"]), r["division"] if r["use"] == KeyUse.SEAL else None)
        for r in rows
        if r["status"] == "active"
    }
    for use, division in sorted(slots, key=lambda s: (s[0], s[1] or "")):
        try:
            await keys.active_key(uow, use, division and province_division(division))
        except WalletError as exc:
            return Check(
                "keys",
                False,
                exc.detail,
                "give the master key these keys were made with (WALLET_MASTER_KEY_FILE)",
            )
    return Check("keys", True, f"{len(rows)} keys as recorded; the master key opens each use")
