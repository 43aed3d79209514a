"""Seeding for the browser tests, the way ``wallet demo`` does it: the registry feeds a
driver's certificate over the signed authority API, the driver signs in through the
WeChat stand-in, binds the real name and claims it with a photo (no registry photo)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import httpx
from PIL import Image, ImageDraw

from tests.factories import AuthorityCaller, authority
from tests.holder_helpers import bearer, driver_body, identity_of, sign_in
from tests.verification.conftest import PASSWORD, add_officer
from wallet.runtime import Runtime

PHONE_DEVICE = "phone_0123456789abcdef"
ENFORCEMENT_DEVICE = "ENF-DEVICE-0001"
BADGE = "21010001"

__all__ = ["BADGE", "ENFORCEMENT_DEVICE", "PASSWORD", "Seeded", "portrait", "seed"]


def portrait() -> bytes:
    """A passport-like photo: a grey figure on a light background."""
    image = Image.new("RGB", (358, 441), (226, 236, 246))
    draw = ImageDraw.Draw(image)
    draw.ellipse((119, 70, 239, 210), fill=(120, 128, 140))
    draw.rounded_rectangle((64, 230, 294, 470), radius=90, fill=(90, 98, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@dataclass
class Seeded:
    caller: AuthorityCaller
    ref: str
    claim_id: str
    holder_token: str
    face: dict[str, str]

    async def qr(self, http: httpx.AsyncClient) -> str:
        """A fresh QR from the holder's phone (the licence must be active)."""
        shown = await http.post(
            f"/api/v1/licences/{self.ref}/presentations?lifetime=300",
            headers=bearer(self.holder_token, PHONE_DEVICE),
        )
        assert shown.status_code in (200, 201), shown.text
        return str(shown.json()["qr"])

    async def activate(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            f"/api/v1/licences/{self.ref}/activation",
            json={"device_id": PHONE_DEVICE},
            headers=bearer(self.holder_token, PHONE_DEVICE),
        )
        assert response.status_code in (200, 201), response.text

    async def status(self, action: str) -> None:
        response = await self.caller.post(
            f"/authority/v1/licences/{self.ref}/status", {"action": action, "reason": "路检发现"}
        )
        assert response.status_code == 200, response.text

    async def holder_state(self, http: httpx.AsyncClient) -> str:
        listed = await http.get("/api/v1/licences", headers=bearer(self.holder_token))
        assert listed.status_code == 200, listed.text
        [item] = [i for i in listed.json()["items"] if i["ref"] == self.ref]
        return str(item["state"])


async def seed(http: httpx.AsyncClient, rt: Runtime, *, officer: bool = True) -> Seeded:
    """A driver's certificate with a claim waiting for photo review (and an officer)."""
    caller = await authority(http, rt)
    body = driver_body(2026)
    created = await caller.post("/authority/v1/licence-versions", body)
    assert created.status_code == 201, created.text
    ref = created.json()["ref"]
    token = await sign_in(http, "driver")
    bound = await http.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code in (200, 201), bound.text
    photo = base64.b64encode(portrait()).decode()
    claim = await http.post(
        f"/api/v1/licences/{ref}/claim", json={"photo": photo}, headers=bearer(token)
    )
    assert claim.status_code in (200, 201), claim.text
    assert claim.json()["status"] == "pending_review"
    if officer:
        await add_officer(http, rt, BADGE, device=ENFORCEMENT_DEVICE)
    return Seeded(caller, ref, claim.json()["claim_id"], token, body["face"])
