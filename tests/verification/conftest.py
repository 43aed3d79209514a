"""Verifier fixtures: a province's keys, a licence in the registry, a signed-in officer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import AuthorityCaller, authority, committing, version_body
from wallet.keys.trust_list import TrustList, verify_trust_list
from wallet.licences.models import Licence
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import mint_credential, mint_qr
from wallet.runtime import Runtime
from wallet.uow import unit_of_work

PASSWORD = "correct horse battery staple"


@dataclass
class Officer:
    token: str
    device: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Device-Id": self.device}


@dataclass
class Scene:
    rt: Runtime
    caller: AuthorityCaller
    licence: Licence
    officer: Officer

    async def qr(
        self, lifetime: int = 60, at: int | None = None, version: int | None = None
    ) -> str:
        key = await committing(self.rt.keys.active_key)("presentation")
        return mint_qr(
            key.kid,
            key.private_key,
            self.rt.sm2,
            lic=self.licence.ref,
            knd=kind_code(self.licence.kind),
            iss=self.licence.issuer_division,
            ver=version or self.licence.version,
            now=at if at is not None else self.rt.clock.timestamp(),
            lifetime=lifetime,
        )

    async def credential(self) -> str:
        key = await committing(self.rt.keys.active_key)("presentation")
        async with unit_of_work() as uow:
            idx = await self.rt.presenter.status_idx(uow, self.licence)
        return mint_credential(
            key.kid,
            key.private_key,
            self.rt.sm2,
            lic=self.licence.ref,
            knd=kind_code(self.licence.kind),
            iss=self.licence.issuer_division,
            ver=self.licence.version,
            idx=idx,
            now=self.rt.clock.timestamp(),
            lifetime=86400,
        )

    async def trust(self) -> TrustList:
        response = await self.caller.http.get("/verifier/v1/trust-list")
        root = next(k for k in await committing(self.rt.keys.list_keys)() if k.use == "root")
        return verify_trust_list(
            response.text, bytes.fromhex(root.public_key), self.rt.sm2, self.rt.clock.timestamp()
        )

    async def status(self, action: str) -> None:
        response = await self.caller.post(
            f"/authority/v1/licences/{self.licence.ref}/status",
            {"action": action, "reason": "测试"},
        )
        assert response.status_code == 200, response.text


async def add_officer(
    client,
    rt: Runtime,
    badge: str,
    role: str = "inspector",
    device: str = "ENF-DEVICE-0001",
    division: str = "210100",
) -> Officer:
    async with unit_of_work() as uow:
        await rt.officers.add(
            uow,
            badge=badge,
            name="执法员甲",
            division=division,
            role=role,
            password=PASSWORD,
            device_id=device,
            now=rt.clock.now(),
        )
    response = await client.post(
        "/verifier/v1/session", json={"badge": badge, "password": PASSWORD, "device_id": device}
    )
    assert response.status_code == 201, response.text
    return Officer(response.json()["token"], device)


@pytest.fixture
async def scene(client, rt) -> Scene:
    caller = await authority(client, rt)
    await committing(rt.keys.init)(["210000"])
    body = version_body("qualification", seed=11)
    ref = (await caller.post("/authority/v1/licence-versions", body)).json()["ref"]
    officer = await add_officer(client, rt, "21010001")
    return Scene(rt, caller, await Licence.get(ref=ref), officer)
