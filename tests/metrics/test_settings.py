"""The settings of /metrics and the log: parsed at start-up, refused with the variable named."""

from __future__ import annotations

import os
from ipaddress import ip_network

import pytest

from httpkit.metrics import multiprocess_metrics
from wallet.errors import ConfigurationError
from wallet.settings import load_settings


def test_defaults_are_json_logs_and_metrics_for_loopback_only():
    settings = load_settings(database_url="sqlite://:memory:", redis_url=None)
    assert settings.log_format == "json"
    assert settings.metrics_networks == (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    assert settings.metrics_token is None
    assert "metrics_token" not in repr(settings)


def test_networks_and_token_are_checked():
    base = {"database_url": "sqlite://:memory:", "redis_url": None}
    allowed = load_settings(**base, metrics_allow=" 10.1.0.0/16 , 192.0.2.7 ")
    assert allowed.metrics_networks == (ip_network("10.1.0.0/16"), ip_network("192.0.2.7/32"))
    assert load_settings(**base, metrics_allow="").metrics_networks == ()
    assert load_settings(**base, metrics_token="").metrics_token is None
    with pytest.raises(ConfigurationError, match="WALLET_METRICS_ALLOW"):
        load_settings(**base, metrics_allow="10.1.2.3/16")  # host bits set: a typo, surely
    with pytest.raises(ConfigurationError, match="WALLET_METRICS_ALLOW"):
        load_settings(**base, metrics_allow="localhost")
    with pytest.raises(ConfigurationError, match="WALLET_METRICS_TOKEN"):
        load_settings(**base, metrics_token="short")
    with pytest.raises(ConfigurationError, match="WALLET_LOG_FORMAT"):
        load_settings(**base, log_format="xml")


def test_serve_with_workers_counts_in_an_emptied_directory(tmp_path, monkeypatch):
    # Set, then removed: the variable is restored (to absent) after the test either way.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old run")
    (directory / "keep.txt").write_text("not ours")
    assert multiprocess_metrics(directory) == directory
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]
    elsewhere = tmp_path / "set-by-operator"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(elsewhere))
    assert multiprocess_metrics(directory) == elsewhere and elsewhere.is_dir()


def test_the_variable_did_not_outlive_the_test():
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
