"""`wallet demo` seeds a province and prints a QR that the verifier accepts."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import orjson


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
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
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
