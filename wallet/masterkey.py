"""The master key: the one secret given to the process, from which the others follow.

It wraps the SM2 private keys stored in the database and derives the
personal-data vault keys and the blind-index key (HMAC-SM3 with a label per
use, so one leaked derived key reveals nothing of the others). It comes from
``WALLET_MASTER_KEY`` or ``WALLET_MASTER_KEY_FILE``; on the embedded defaults
a missing key is created once under the data directory (mode 0600), but
never next to an existing database, whose data a new key could not open. With
PostgreSQL a missing key is a start-up error: a production key is never made
silently.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from wallet.crypto import hmac_sm3
from wallet.errors import ConfigurationError
from wallet.settings import Settings

__all__ = ["derive_key", "load_master_key"]

log = logging.getLogger(__name__)


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"WALLET_MASTER_KEY_FILE: cannot read hex key ({exc.__class__.__name__})"
        ) from None
    if len(key) != 32:
        raise ConfigurationError("WALLET_MASTER_KEY_FILE: must hold 32 bytes as 64 hex characters")
    return key


def load_master_key(settings: Settings) -> bytes:
    """The 32-byte master key, from the environment, a file, or (embedded only) a new file."""
    if settings.master_key:
        return bytes.fromhex(settings.master_key)
    if settings.master_key_file is not None:
        return _read_key_file(settings.master_key_file)
    path = settings.data_dir / "master.key"
    if path.exists():
        return _read_key_file(path)
    if not settings.is_embedded_database:
        raise ConfigurationError(
            "no master key: set WALLET_MASTER_KEY or WALLET_MASTER_KEY_FILE "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    database = settings.database_file
    if database is not None and database.exists():
        # Whatever that database holds is sealed under a key we do not have: a new
        # key would only make it unreadable (typically WALLET_DATA_DIR pointing
        # somewhere else than where the database was made).
        raise ConfigurationError(
            f"no master key at {path}, but the database {database} exists: set "
            "WALLET_DATA_DIR to the directory holding its master.key, or WALLET_MASTER_KEY "
            "or WALLET_MASTER_KEY_FILE"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    log.warning("created a development master key at %s", path)
    return key


def derive_key(master_key: bytes, label: str, length: int = 16) -> bytes:
    """A key for one purpose: HMAC-SM3(master, label), truncated to ``length`` bytes."""
    if not 1 <= length <= 32:
        raise ValueError("length must be 1..32")
    return hmac_sm3(master_key, b"rtel-wallet:" + label.encode())[:length]
