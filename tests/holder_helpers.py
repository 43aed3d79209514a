"""Plain async helpers for the holder tests: sign-in, registry data, images."""

from __future__ import annotations

import io
import random
from typing import Any

import httpx
from PIL import Image

from tests.factories import committing, version_body
from wallet.audit.models import AuditEntry
from wallet.licences.schemas import VersionIn
from wallet.runtime import Runtime
from wallet.uow import unit_of_work

DEVICE = "device_0123456789abcdef"


def bearer(token: str, device: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if device is not None:
        headers["X-Device-Id"] = device
    return headers


async def sign_in(http: httpx.AsyncClient, user: str, n: int = 1) -> str:
    """A session token for stand-in user ``user`` (code ``<user>.<n>``)."""
    response = await http.post("/api/v1/session", json={"code": f"{user}.{n}"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def issue(rt: Runtime, bodies: list[dict[str, Any]]) -> list[str]:
    """Record feed bodies through the registry service, in one unit of work; their refs."""
    await committing(rt.keys.init)(["210000"])
    refs = []
    async with unit_of_work() as uow:
        for body in bodies:
            result = await rt.registry.upsert_version(
                uow, VersionIn.model_validate(body), actor="test:registry"
            )
            refs.append(result.licence.ref)
    return refs


def driver_body(seed: int, *, photo: bool = False, **face: Any) -> dict[str, Any]:
    """A qualification certificate; without a registry photo unless ``photo``."""
    if not photo:
        face.setdefault("photo", "")
    return version_body("qualification", seed=seed, **face)


def identity_of(body: dict[str, Any]) -> dict[str, str]:
    """The binding body matching a person licence's face."""
    return {"name": body["face"]["name"], "id_number": body["face"]["certificate_number"]}


def jpeg(width: int = 300, height: int = 400, *, exif: bool = True, fmt: str = "JPEG") -> bytes:
    """A small image; JPEGs carry EXIF (camera make and GPS) to prove it is stripped."""
    image = Image.new("RGB", (width, height), (random.randrange(256), 120, 200))
    out = io.BytesIO()
    if exif and fmt == "JPEG":
        data = Image.Exif()
        data[0x010F] = "SpyCam"  # Make
        data[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS
        image.save(out, format=fmt, exif=data)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


async def audit_count() -> int:
    return await AuditEntry.all().count()


async def face_bind(http: httpx.AsyncClient, token: str, name: str, id_number: str) -> None:
    """Bind through WeChat face verification (the ``face_holder`` services)."""
    ident = {"name": name, "id_number": id_number}
    started = await http.post(
        "/api/v1/identity/face-verification", json=ident, headers=bearer(token)
    )
    assert started.status_code == 201, started.text
    bound = await http.post(
        "/api/v1/identity",
        json=ident | {"verify_id": started.json()["verify_id"]},
        headers=bearer(token),
    )
    assert bound.status_code == 200, bound.text


def permit_body(seed: int, person_in_charge: str, **face: Any) -> dict[str, Any]:
    """A business permit naming ``person_in_charge``."""
    return version_body("business_permit", seed=seed, person_in_charge=person_in_charge, **face)


def vehicle_bodies(uscc: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` road transport certificates of operator ``uscc``, distinct numbers and plates."""
    bodies = []
    for n in range(start, start + count):
        body = version_body(
            "transport_cert",
            seed=n,
            certificate_number=f"210102{n:06d}",
            plate_number=f"辽B{n:05d}",
        )
        body["holder"] = {"uscc": uscc}
        bodies.append(body)
    return bodies


async def subscribe(http: httpx.AsyncClient, token: str, *templates: str) -> None:
    """The mini-program reports the subscribe-message templates the user accepted."""
    answer = await http.post(
        "/api/v1/subscriptions", json={"accepted": list(templates)}, headers=bearer(token)
    )
    assert answer.status_code == 204, answer.text
