"""The demo client (``wallet demo``): seed a province and show a licence, through the real HTTP API.

On the database the settings name (the embedded defaults for a newcomer) it
creates one province's keys, a driver with a qualification certificate, an
operator with a business permit and a small fleet, and an officer. The
driver signs in through the local WeChat stand-in, binds the real name,
claims and activates the certificate and asks for a QR (lifetime 300 s),
all in-process through the combined app; a relying party is registered, the
driver grants it fields of the certificate and it redeems the annotated copy
(JSON, then the PDF, written beside the QR's PNG). It prints the QR string, writes its
PNG, and prints the officer's sign-in and the ``curl`` commands that verify
the QR against ``wallet serve`` at its base URL (``--base-url``, by default
the one ``HOST`` and ``PORT`` make) right away. For the pages, a second
driver (without a registry photo) claims with a photo that waits for review,
and an authority supervisor is added: the printout names ``/console/`` and
``/scan/`` with their sign-ins. Rerunning it reuses what exists.
"""

from __future__ import annotations

import asyncio
import base64
import io
import random
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from PIL import Image, ImageDraw

from httpkit.combined import create_app
from httpkit.inprocess import LifespanApp
from wallet.authority.signing import create_client, sign_request
from wallet.errors import Conflict
from wallet.identifiers import make_uscc
from wallet.licences.catalogue import get_kind
from wallet.licences.samples import sample_face, sample_issuer
from wallet.runtime import Runtime
from wallet.settings import Settings
from wallet.sharing.schemas import PartyIn
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
CONSOLE_USER = "demo.supervisor"


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


async def _share(http: httpx.AsyncClient, rt: Runtime, ref: str) -> tuple[str, str, bytes]:
    """A relying party, the driver's grant to it, and one redemption (JSON, then PDF).

    Returns the party id, the grant id and the PDF of the annotated copy.
    """
    async with unit_of_work() as uow:
        party = await rt.parties.add(
            uow,
            PartyIn(
                name="演示物流有限公司",
                uscc=make_uscc(random.Random(secrets.randbits(64)), DIVISION),
                purposes=["employment"],
            ),
            actor="demo",
        )
    session = await http.post("/api/v1/session", json={"code": "demo-driver.2"})
    session.raise_for_status()
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    until = (rt.clock.now() + timedelta(days=30)).isoformat()
    body = {
        "party": party.uscc,
        "licences": [ref],
        "fields": ["name", "qualification_categories", "valid_until"],
        "purpose": "employment",
        "until": until,
        "max_uses": 2,
    }
    granted = await http.post("/api/v1/grants", json=body, headers=auth)
    granted.raise_for_status()
    grant_id = str(granted.json()["id"])
    raw = orjson.dumps({"grant": grant_id, "licence": ref})
    copies = []
    for path in ("/share/v1/copies", "/share/v1/copies?format=pdf"):
        headers = {
            "X-Client-Id": party.party_id,
            "Content-Type": "application/json",
            **sign_request(party.secret, "POST", path, raw, timestamp=rt.clock.timestamp()),
        }
        response = await http.post(path, content=raw, headers=headers)
        response.raise_for_status()
        copies.append(response.content)
    return party.party_id, grant_id, copies[1]


def _portrait() -> bytes:
    """A passport-like photo (a grey figure on a light background) for the pending claim."""
    image = Image.new("RGB", (358, 441), (226, 236, 246))
    draw = ImageDraw.Draw(image)
    draw.ellipse((119, 70, 239, 210), fill=(120, 128, 140))
    draw.rounded_rectangle((64, 230, 294, 470), radius=90, fill=(90, 98, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


async def _pending_claim(http: httpx.AsyncClient, rt: Runtime) -> str:
    """A second driver, with no photo in the registry, claims with one: it waits for review."""
    face = sample_face(get_kind("qualification"), random.Random(20261126), DIVISION, photo="")
    body = {
        "kind": "qualification",
        "version": 1,
        "change_type": "issue",
        "issuer": sample_issuer(DIVISION),
        "face": face,
    }
    [ref] = await _feed(http, rt, [body])
    session = await http.post("/api/v1/session", json={"code": "demo-driver2.1"})
    session.raise_for_status()
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    identity = {"name": face["name"], "id_number": face["certificate_number"]}
    bound = await http.post("/api/v1/identity", json=identity, headers=auth)
    if bound.status_code >= 400 and bound.status_code != 409:  # 409: bound by an earlier run
        raise RuntimeError(f"/api/v1/identity: {bound.status_code} {bound.text}")
    photo = base64.b64encode(_portrait()).decode()
    # A rerun finds the claim already made (or decided): that is kept.
    await http.post(f"/api/v1/licences/{ref}/claim", json={"photo": photo}, headers=auth)
    return ref


async def _console_user(rt: Runtime) -> str:
    password = secrets.token_urlsafe(12)
    try:
        async with unit_of_work() as uow:
            await rt.console.add(
                uow,
                username=CONSOLE_USER,
                name="演示主管",
                division=PROVINCE,
                role="supervisor",
                password=password,
            )
    except Conflict:
        async with unit_of_work() as uow:
            await rt.console.reset_password(uow, CONSOLE_USER, password)
    return password


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
                party_id, grant_id, copy_pdf = await _share(http, rt, driver_ref)
                pending_ref = await _pending_claim(http, rt)
            password = await _officer(rt)
            console_password = await _console_user(rt)
    finally:
        standin.stop()
    png_path = out_dir / "demo-qr.png"
    await asyncio.to_thread(_write, png_path, png)
    copy_path = out_dir / "demo-copy.pdf"
    await asyncio.to_thread(_write, copy_path, copy_pdf)
    sign_in = orjson.dumps(
        {"badge": BADGE, "password": password, "device_id": ENFORCEMENT_DEVICE}
    ).decode()
    return "\n".join(
        [
            f"driver's qualification certificate: {driver_ref} (active on {PHONE})",
            f"operator's business permit and fleet: {', '.join(fleet_refs)}",
            f"relying party {party_id} holds grant {grant_id} (name, qualification, validity; "
            f"2 reads): redeemed once as JSON and once as the PDF at {copy_path}",
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
            "",
            "In a browser:",
            f"  {base_url}/scan/     inspector's scanner: badge {BADGE}, password {password}, "
            f"device {ENFORCEMENT_DEVICE}; paste the QR above",
            f"  {base_url}/console/  authority console: user {CONSOLE_USER}, password "
            f"{console_password}; a photo of {pending_ref} waits for review",
        ]
    )
