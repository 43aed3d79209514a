"""The demo client (``wallet demo``): seed a province and show a licence, through the real HTTP API.

On the database the settings name (the embedded defaults for a newcomer) it
creates one province's keys, a driver with a qualification certificate, an
operator with a business permit and a small fleet, and an officer. The
driver signs in through the local WeChat stand-in, binds the real name,
claims and activates the certificate and asks for a QR (lifetime 300 s),
all in-process through the combined app. It prints the QR string, writes its
PNG, and prints the officer's sign-in and the ``curl`` commands that verify
the QR against ``wallet serve`` at its base URL (``--base-url``, by default
the one ``HOST`` and ``PORT`` make) right away. Rerunning it reuses what exists.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from httpkit.combined import create_app
from httpkit.inprocess import LifespanApp
from wallet.authority.signing import create_client, sign_request
from wallet.errors import Conflict
from wallet.licences.catalogue import get_kind
from wallet.licences.samples import sample_face, sample_issuer
from wallet.runtime import Runtime
from wallet.settings import Settings
from wallet.uow import unit_of_work
from wallet.wechat.standin import StandinServer

__all__ = ["base_url_from_env", "check_base_url", "run_demo"]

_PRINT_TOKEN = "'import json,sys; print(json.load(sys.stdin)[\"token\"])'"  # noqa: S105 - a shell snippet


def base_url_from_env(env: Mapping[str, str]) -> str:
    """Where ``wallet serve`` listens by the same ``HOST``/``PORT`` it reads.

    A wildcard bind address (``0.0.0.0``, ``::``) is not one a client can
    call: the commands go to the loopback address on that port.
    """
    host = env.get("HOST") or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env.get('PORT') or '8000'}"


def check_base_url(text: str) -> str:
    """``text`` as a base URL for the printed commands, without a trailing slash.

    Raises :class:`ValueError` unless it is an ``http``/``https`` URL with a
    host and no query or fragment.
    """
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{text!r} is not an http(s) base URL such as http://127.0.0.1:8000")
    return text.rstrip("/")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


PROVINCE = "210000"
DIVISION = "210102"
PHONE = "demo-phone-000000001"
ENFORCEMENT_DEVICE = "demo-enforcement-01"
BADGE = "DEMO0001"


def _bodies() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = random.Random(20261125)
    issuer = sample_issuer(DIVISION)
    driver = {
        "kind": "qualification",
        "version": 1,
        "change_type": "issue",
        "issuer": issuer,
        "face": sample_face(get_kind("qualification"), rng, DIVISION),
    }
    permit_face = sample_face(get_kind("business_permit"), rng, DIVISION)
    fleet = [
        {
            "kind": "business_permit",
            "version": 1,
            "change_type": "issue",
            "issuer": issuer,
            "face": permit_face,
        }
    ]
    for _ in range(3):
        face = sample_face(
            get_kind("transport_cert"),
            rng,
            DIVISION,
            operator_name=permit_face["operator_name"],
            business_permit_number=permit_face["permit_number"],
        )
        fleet.append(
            {
                "kind": "transport_cert",
                "version": 1,
                "change_type": "issue",
                "issuer": issuer,
                "holder": {"uscc": permit_face["uscc"]},
                "face": face,
            }
        )
    return driver, fleet


async def _feed(http: httpx.AsyncClient, rt: Runtime, bodies: list[dict[str, Any]]) -> list[str]:
    async with unit_of_work() as uow:
        client, secret = await create_client(
            uow, rt.vault, name="演示运政系统", division=PROVINCE, now=rt.clock.now()
        )
    refs = []
    for body in bodies:
        raw = orjson.dumps(body)
        headers = {
            "X-Client-Id": client.client_id,
            "Content-Type": "application/json",
            **sign_request(
                secret,
                "POST",
                "/authority/v1/licence-versions",
                raw,
                timestamp=rt.clock.timestamp(),
            ),
        }
        response = await http.post("/authority/v1/licence-versions", content=raw, headers=headers)
        response.raise_for_status()
        refs.append(response.json()["ref"])
    return refs


async def _officer(rt: Runtime) -> str:
    password = secrets.token_urlsafe(12)
    try:
        async with unit_of_work() as uow:
            await rt.officers.add(
                uow,
                badge=BADGE,
                name="演示执法员",
                division=DIVISION,
                role="inspector",
                password=password,
                device_id=ENFORCEMENT_DEVICE,
                now=rt.clock.now(),
            )
    except Conflict:
        async with unit_of_work() as uow:
            await rt.officers.reset_password(uow, BADGE, password)
    return password


async def _show(http: httpx.AsyncClient, driver: dict[str, Any], ref: str) -> tuple[str, bytes]:
    session = await http.post("/api/v1/session", json={"code": "demo-driver.1"})
    session.raise_for_status()
    auth = {"Authorization": f"Bearer {session.json()['token']}", "X-Device-Id": PHONE}
    face = driver["face"]
    steps = [
        ("/api/v1/identity", {"name": face["name"], "id_number": face["certificate_number"]}),
        (f"/api/v1/licences/{ref}/claim", None),
        (f"/api/v1/licences/{ref}/activation", {"device_id": PHONE}),
    ]
    for path, body in steps:
        response = await http.post(path, json=body, headers=auth)
        if response.status_code >= 400:
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    shown = await http.post(f"/api/v1/licences/{ref}/presentations?lifetime=300", headers=auth)
    shown.raise_for_status()
    qr = str(shown.json()["qr"])
    png = await http.post(
        f"/api/v1/licences/{ref}/presentations?lifetime=300&format=png", headers=auth
    )
    png.raise_for_status()
    return qr, png.content


async def run_demo(settings: Settings, out_dir: Path, base_url: str) -> str:
    """Seed, show and return the text to print (QR string, PNG path, officer sign-in).

    The printed ``curl`` commands call the server at ``base_url``.
    """
    settings = settings.model_copy(update={"log_level": "WARNING"})  # the printout is the output
    standin = StandinServer(
        app_id=settings.wechat_app_id, app_secret=settings.wechat_app_secret
    ).start()
    settings = settings.model_copy(update={"wechat_api_base": standin.url})
    try:
        async with LifespanApp(create_app(settings)) as app:
            rt: Runtime = app.state["runtime"]
            async with unit_of_work() as uow:
                await rt.keys.init(uow, [PROVINCE])
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
                driver, fleet = _bodies()
                [driver_ref, *fleet_refs] = await _feed(http, rt, [driver, *fleet])
                qr, png = await _show(http, driver, driver_ref)
            password = await _officer(rt)
    finally:
        standin.stop()
    png_path = out_dir / "demo-qr.png"
    await asyncio.to_thread(_write, png_path, png)
    sign_in = orjson.dumps(
        {"badge": BADGE, "password": password, "device_id": ENFORCEMENT_DEVICE}
    ).decode()
    return "\n".join(
        [
            f"driver's qualification certificate: {driver_ref} (active on {PHONE})",
            f"operator's business permit and fleet: {', '.join(fleet_refs)}",
            f"QR (valid 300 s), PNG at {png_path}:",
            "",
            qr,
            "",
            f"With wallet serve running at {base_url}, as the officer:",
            "",
            f"  TOKEN=$(curl -s {base_url}/verifier/v1/session \\",
            "    -H 'content-type: application/json' \\",
            f"    -d '{sign_in}' | python3 -c {_PRINT_TOKEN})",
            f"  curl -s {base_url}/verifier/v1/verifications \\",
            '    -H "authorization: Bearer $TOKEN" \\',
            f"    -H 'x-device-id: {ENFORCEMENT_DEVICE}' -H 'content-type: application/json' \\",
            f'    -d \'{{"qr": "{qr}"}}\'',
        ]
    )
