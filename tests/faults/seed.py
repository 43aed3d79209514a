"""Seed the fault suite's private database (run in its own process: Tortoise is per process).

Migrates the database named by ``DATABASE_URL``, creates a province's keys,
an authority client, a few licences and two officers, and prints what the
load needs as one JSON line: the client's id and secret, the licences'
claims, and the presentation key (test-only: the suite mints QR strings).

Run: ``python -m tests.faults.seed`` with the app's environment.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

from tests.factories import committing, version_body
from wallet.authority.signing import create_client
from wallet.db import migrate_database
from wallet.licences.schemas import VersionIn
from wallet.presentation.service import kind_code
from wallet.runtime import open_runtime
from wallet.settings import load_settings
from wallet.uow import unit_of_work

PASSWORD = "fault suite password 01"
OFFICERS = (("21010001", "FAULT-DEVICE-0001"), ("21010002", "FAULT-DEVICE-0002"))


async def seed() -> dict[str, object]:
    settings = load_settings()
    await migrate_database(settings)
    async with open_runtime(settings) as rt:
        await committing(rt.keys.init)(["210000"])
        async with unit_of_work() as uow:
            client, secret = await create_client(
                uow, rt.vault, name="fault suite", division="210000", now=rt.clock.now()
            )
        licences = []
        for seed_ in (31, 32, 33):
            body = version_body("qualification", seed=seed_)
            async with unit_of_work() as uow:
                result = await rt.registry.upsert_version(
                    uow, VersionIn.model_validate(body), actor="fault suite"
                )
            lic = result.licence
            licences.append(
                {
                    "ref": lic.ref,
                    "knd": kind_code(lic.kind),
                    "iss": lic.issuer_division,
                    "ver": lic.version,
                }
            )
        for badge, device in OFFICERS:
            async with unit_of_work() as uow:
                await rt.officers.add(
                    uow,
                    badge=badge,
                    name="执法员",
                    division="210100",
                    role="inspector",
                    password=PASSWORD,
                    device_id=device,
                    now=rt.clock.now(),
                )
        key = await committing(rt.keys.active_key)("presentation")
        return {
            "client_id": client.client_id,
            "secret": secret,
            "licences": licences,
            "kid": key.kid,
            "private_key": key.private_key.hex(),
            "officers": [list(o) for o in OFFICERS],
            "password": PASSWORD,
        }


if __name__ == "__main__":
    sys.stdout.write(orjson.dumps(asyncio.run(seed())).decode() + "\n")
