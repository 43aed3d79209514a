"""`wallet demo` seeds a province and prints a QR that the verifier accepts."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import orjson
import pytest

from httpkit.cli import main
from httpkit.demo import base_url_from_env


async def test_demo_prints_a_qr_that_verifies(client, rt, settings, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "WALLET_MASTER_KEY": settings.master_key,
        "WALLET_DATA_DIR": str(settings.data_dir),
        "WALLET_DEPLOYMENT": settings.deployment,
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        "demo",
        "--out",
        str(tmp_path),
        "--base-url",
        "http://127.0.0.1:8123/",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    curls = re.findall(r"curl -s (\S+)", text)
    assert curls == [
        "http://127.0.0.1:8123/verifier/v1/session",
        "http://127.0.0.1:8123/verifier/v1/verifications",
    ]
    assert "localhost:8000" not in text
    assert re.search(r"relying party rp_[0-9a-f]{16} holds grant G[A-Z2-7]{16}", text)
    assert (tmp_path / "demo-copy.pdf").read_bytes().startswith(b"%PDF")
    qr = re.search(r"^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$", text, re.M).group(1)
    sign_in = orjson.loads(re.search(r"-d '(\{\"badge\".*?\})'", text).group(1))
    assert (tmp_path / "demo-qr.png").read_bytes().startswith(b"\x89PNG")
    rt.verifier.forget_trust()  # keys were made by another process
    session = await client.post("/verifier/v1/session", json=sign_in)
    assert session.status_code == 201, session.text
    verdict = await client.post(
        "/verifier/v1/verifications",
        json={"qr": qr},
        headers={
            "Authorization": f"Bearer {session.json()['token']}",
            "X-Device-Id": sign_in["device_id"],
        },
    )
    assert verdict.json()["verdict"] == "valid"
    assert verdict.json()["licence"]["kind"] == "qualification"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "9001"}, "http://127.0.0.1:9001"),
        ({"HOST": "10.0.0.5", "PORT": "8080"}, "http://10.0.0.5:8080"),
        ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "::1"}, "http://[::1]:8000"),
    ],
)
def test_the_default_base_url_is_where_serve_listens(env, expected):
    assert base_url_from_env(env) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host", "http://", "http://h/?q=1"])
def test_a_bad_base_url_is_a_usage_error(url, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--base-url", url])
    assert exc.value.code == 2
    assert "--base-url" in capsys.readouterr().err
