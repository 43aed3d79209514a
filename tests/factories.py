"""Plain async factories shared by the tests."""

from __future__ import annotations

import random
from typing import Any

import httpx
import orjson

from wallet.authority.signing import create_client, sign_request
from wallet.licences.catalogue import get_kind
from wallet.licences.samples import sample_face, sample_issuer
from wallet.runtime import Runtime
from wallet.uow import unit_of_work


class AuthorityCaller:
    """Signs and sends authority requests for one client."""

    def __init__(self, http: httpx.AsyncClient, rt: Runtime, client_id: str, secret: str):
        self.http, self.rt, self.client_id, self.secret = http, rt, client_id, secret

    def headers(self, method: str, path: str, body: bytes, **kw: Any) -> dict[str, str]:
        signed = sign_request(
            self.secret,
            method,
            path,
            body,
            timestamp=kw.pop("timestamp", self.rt.clock.timestamp()),
            **kw,
        )
        return {"X-Client-Id": self.client_id, "Content-Type": "application/json", **signed}

    async def call(self, method: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        body = b"" if json is None else orjson.dumps(json)
        return await self.http.request(
            method, path, content=body, headers=self.headers(method, path, body, **kw)
        )

    async def post(self, path: str, json: Any, **kw: Any) -> httpx.Response:
        return await self.call("POST", path, json, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("GET", path, **kw)


async def authority(
    http: httpx.AsyncClient,
    rt: Runtime,
    division: str = "210000",
    provinces: tuple[str, ...] = ("210000",),
) -> AuthorityCaller:
    """A registered client of ``division`` with seal keys for ``provinces``."""
    await committing(rt.keys.init)(list(provinces))
    async with unit_of_work() as uow:
        client, secret = await create_client(
            uow, rt.vault, name="辽宁省运政系统", division=division, now=rt.clock.now()
        )
    return AuthorityCaller(http, rt, client.client_id, secret)


def version_body(
    kind: str, seed: int = 0, version: int = 1, division: str = "210102", **face_overrides: Any
) -> dict[str, Any]:
    """A valid feed body for a new licence of ``kind``."""
    rng = random.Random(seed)
    face = sample_face(get_kind(kind), rng, division=division, **face_overrides)
    body: dict[str, Any] = {
        "kind": kind,
        "version": version,
        "change_type": "issue",
        "issuer": sample_issuer(division),
        "face": face,
    }
    if get_kind(kind).holder_type == "vehicle":
        body["holder"] = {"uscc": sample_face(get_kind("business_permit"), rng)["uscc"]}
    return body


def committing(method: Any) -> Any:
    """``method`` (a service method taking the unit of work first) as a command runs it:
    each call opens its own unit of work and commits it."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        async with unit_of_work() as uow:
            return await method(uow, *args, **kwargs)

    return call
