import os
import stat

import pytest

from wallet.errors import ConfigurationError
from wallet.masterkey import derive_key, load_master_key
from wallet.settings import load_settings


def test_defaults_are_the_embedded_ones(monkeypatch):
    for var in ("DATABASE_URL", "REDIS_URL", "WALLET_DATABASE_URL", "WALLET_REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite://")
    assert settings.redis_url is None
    assert settings.is_embedded_database


@pytest.mark.parametrize(
    "var,value,named",
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://x", "REDIS_URL"),
        ("WALLET_QR_LIFETIME", "5", "WALLET_QR_LIFETIME"),
        ("WALLET_QR_LIFETIME", "soon", "WALLET_QR_LIFETIME"),
        ("WALLET_MASTER_KEY", "abcd", "WALLET_MASTER_KEY"),
        ("WALLET_SM2_BACKEND", "openssl", "WALLET_SM2_BACKEND"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, var, value, named):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert named in caught.value.detail


def test_postgresql_scheme_is_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    assert load_settings().database_url == "postgres://u@h:5432/d"


def test_master_key_is_created_once_with_private_mode(tmp_path):
    settings = load_settings(
        data_dir=tmp_path,
        master_key=None,
        master_key_file=None,
        database_url="sqlite://" + str(tmp_path / "db.sqlite3"),
    )
    first = load_master_key(settings)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_master_key(settings) == first and len(first) == 32


def test_postgresql_without_a_master_key_is_refused(tmp_path):
    settings = load_settings(
        data_dir=tmp_path,
        master_key=None,
        master_key_file=None,
        database_url="postgres://u@h:5432/d",
    )
    with pytest.raises(ConfigurationError, match="WALLET_MASTER_KEY"):
        load_master_key(settings)


def test_master_key_file(tmp_path):
    path = tmp_path / "k"
    path.write_text("ab" * 32)
    settings = load_settings(master_key=None, master_key_file=path)
    assert load_master_key(settings) == bytes.fromhex("ab" * 32)
    path.write_text("nothex")
    with pytest.raises(ConfigurationError):
        load_master_key(settings)


def test_derived_keys_differ_by_label():
    master = bytes(32)
    assert derive_key(master, "a") != derive_key(master, "b")
    assert len(derive_key(master, "a", 32)) == 32
