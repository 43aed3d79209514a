"""Serve one verification from the database the environment names (a restored one).

``python -m tests.operating.serve_restored REF BADGE PASSWORD DEVICE`` builds the
combined app on that database (real lifespan: runtime, keys, trust list), signs
the officer in, mints a QR of licence REF with the database's presentation
key and verifies it through the verifier API; prints a JSON report.
"""

from __future__ import annotations

import asyncio
import sys

import httpx
import orjson

from httpkit.combined import create_app
from httpkit.inprocess import LifespanApp
from wallet.licences.models import Licence
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import mint_qr
from wallet.runtime import Runtime
from wallet.settings import load_settings
from wallet.uow import unit_of_work


async def main(ref: str, badge: str, password: str, device: str) -> dict[str, object]:
    settings = load_settings()
    async with LifespanApp(create_app(settings)) as app:
        rt: Runtime = app.state["runtime"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            session = await http.post(
                "/verifier/v1/session",
                json={"badge": badge, "password": password, "device_id": device},
            )
            token = session.json()["token"]
            licence = await Licence.get(ref=ref)
            async with unit_of_work() as uow:
                key = await rt.keys.active_key(uow, "presentation")
            qr = mint_qr(
                key.kid,
                key.private_key,
                rt.sm2,
                lic=licence.ref,
                knd=kind_code(licence.kind),
                iss=licence.issuer_division,
                ver=licence.version,
                now=rt.clock.timestamp(),
                lifetime=60,
            )
            answer = await http.post(
                "/verifier/v1/verifications",
                json={"qr": qr},
                headers={"Authorization": f"Bearer {token}", "X-Device-Id": device},
            )
            return {
                "session": session.status_code,
                "status": answer.status_code,
                "verdict": answer.json().get("verdict"),
                "kid": key.kid,
            }


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(main(*sys.argv[1:5]))).decode())
