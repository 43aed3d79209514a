import os
import stat
import subprocess
import sys

import pytest

from wallet.errors import ConfigurationError
from wallet.masterkey import derive_key, load_master_key
from wallet.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Settings from this test alone, not from the leg's DATABASE_URL and REDIS_URL."""
    for var in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("WALLET_")]:
        monkeypatch.delenv(var)


def test_defaults_are_the_embedded_ones():
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
        ("WALLET_WECHAT_CLAIM_TEMPLATE_FIELDS", "licence=thing1", "WALLET_WECHAT_CLAIM_TEMPLATE"),
        (
            "WALLET_WECHAT_CLAIM_TEMPLATE_FIELDS",
            "licence=thing1,outcome=thing1,note=thing3,time=time4",
            "WALLET_WECHAT_CLAIM_TEMPLATE_FIELDS",
        ),
        (
            "WALLET_WECHAT_CLAIM_TEMPLATE_FIELDS",
            "licence=thing1,outcome=phrase 2,note=thing3,time=time4",
            "WALLET_WECHAT_CLAIM_TEMPLATE_FIELDS",
        ),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, var, value, named):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert named in caught.value.detail


def test_postgresql_scheme_is_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    monkeypatch.setenv("WALLET_IDENTITY_PROVIDER", "wechat_face")
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
        identity_provider="wechat_face",
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


# -- the registry identity provider runs only on the embedded defaults -----------------


@pytest.mark.parametrize(
    "env,named",
    [
        ({"DATABASE_URL": "postgres://u@h:5432/d"}, "DATABASE_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "REDIS_URL"),
        (
            {"DATABASE_URL": "postgres://u@h:5432/d", "WALLET_IDENTITY_PROVIDER": "registry"},
            "DATABASE_URL",
        ),
    ],
)
def test_registry_provider_outside_the_embedded_defaults_is_refused(monkeypatch, env, named):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    detail = caught.value.detail
    for var in (named, "WALLET_IDENTITY_PROVIDER", "WALLET_DEPLOYMENT"):
        assert var in detail
    assert "u@h" not in detail  # names the variable, never its value


@pytest.mark.parametrize(
    "extra", [{"WALLET_DEPLOYMENT": "test"}, {"WALLET_IDENTITY_PROVIDER": "wechat_face"}]
)
def test_a_test_deployment_or_face_verification_may_run_on_services(monkeypatch, extra):
    for var, value in {
        "DATABASE_URL": "postgres://u@h:5432/d",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **extra,
    }.items():
        monkeypatch.setenv(var, value)
    settings = load_settings()
    assert not settings.is_embedded


def test_unknown_deployment_is_refused(monkeypatch):
    monkeypatch.setenv("WALLET_DEPLOYMENT", "staging")
    with pytest.raises(ConfigurationError, match="WALLET_DEPLOYMENT"):
        load_settings()


# -- paths are resolved once, at start ---------------------------------------------------


def test_relative_paths_are_resolved_at_start(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WALLET_DATA_DIR", "state")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "state"
    assert settings.database_file == tmp_path / "state" / "wallet.sqlite3"
    monkeypatch.setenv("DATABASE_URL", "sqlite://db/w.sqlite3")
    assert load_settings().database_file == tmp_path / "db" / "w.sqlite3"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_master_key(settings) == load_master_key(settings)
    assert (tmp_path / "state" / "master.key").exists()
    assert not (elsewhere / "state").exists()


def test_no_new_master_key_next_to_an_existing_database(tmp_path):
    made = load_settings(data_dir=tmp_path / "a", master_key=None, master_key_file=None)
    load_master_key(made)
    made.database_file.write_bytes(b"SQLite format 3\x00")
    moved = load_settings(
        data_dir=tmp_path / "b",
        database_url=f"sqlite://{made.database_file}",
        master_key=None,
        master_key_file=None,
    )
    with pytest.raises(ConfigurationError) as caught:
        load_master_key(moved)
    assert (
        "WALLET_DATA_DIR" in caught.value.detail and str(made.database_file) in caught.value.detail
    )
    assert not (tmp_path / "b" / "master.key").exists()


def _wallet(cwd, *args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WALLET_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run(
        [sys.executable, "-m", "httpkit.cli", *args],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_from_another_directory_makes_no_second_master_key(tmp_path):
    home, other = tmp_path / "home", tmp_path / "other"
    home.mkdir()
    other.mkdir()
    made = _wallet(home, "migrate", WALLET_DATA_DIR="var")
    assert made.returncode == 0, made.stderr
    key = (home / "var" / "master.key").read_text()  # made before the database, with it
    database = home / "var" / "wallet.sqlite3"
    lost = _wallet(
        other, "keys", "list", WALLET_DATA_DIR="var", DATABASE_URL=f"sqlite://{database}"
    )
    assert lost.returncode == 1 and "WALLET_DATA_DIR" in lost.stderr
    assert str(database) in lost.stderr
    assert not (other / "var").exists()
    assert (home / "var" / "master.key").read_text() == key


# -- a Redis Cluster is named by its scheme or by WALLET_REDIS_CLUSTER -----------------


def test_a_redis_cluster_is_named_by_scheme_or_setting(monkeypatch):
    from wallet.cache import is_cluster

    monkeypatch.setenv("WALLET_DEPLOYMENT", "test")
    monkeypatch.setenv("REDIS_URL", "redis+cluster://10.0.0.1:6379")
    assert is_cluster(load_settings())
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.1:6379")
    assert not is_cluster(load_settings())
    monkeypatch.setenv("WALLET_REDIS_CLUSTER", "true")
    assert is_cluster(load_settings())
    monkeypatch.setenv("REDIS_URL", "redis+cluster://10.0.0.1:6379/3")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "only database 0" in caught.value.detail
