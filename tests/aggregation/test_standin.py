"""The ministry stand-in refuses what the ministry would refuse."""

from __future__ import annotations

import httpx

from tests.aggregation.conftest import Bench
from wallet.aggregation.wire import (
    IDEMPOTENCY_HEADER,
    KID_HEADER,
    SIGNATURE_HEADER,
    batch_body,
    signature_header,
)
from wallet.uow import read_only


async def _post(bench: Bench, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(bench.ministry.url, content=body, headers=headers)


async def _signed(bench: Bench, province: str, body: bytes, batch: str) -> dict[str, str]:
    async with read_only() as uow:
        key = await bench.rt.keys.active_key(uow, "seal", province)
    return {
        IDEMPOTENCY_HEADER: batch,
        KID_HEADER: key.kid,
        SIGNATURE_HEADER: signature_header(key.private_key, body, bench.rt.sm2),
    }


async def test_signature_province_and_key_reuse_are_checked(bench: Bench) -> None:
    events = [{"id": 1, "licence_ref": "R1", "payload": {}}]
    body = batch_body("b-1", "210000", events)
    headers = await _signed(bench, "210000", body, "b-1")

    ok = await _post(bench, body, headers)
    again = await _post(bench, body, headers)
    tampered = await _post(bench, body.replace(b'"R1"', b'"R2"'), headers)
    other = batch_body("b-1", "210000", [{"id": 2, "licence_ref": "R2", "payload": {}}])
    reused = await _post(bench, other, await _signed(bench, "210000", other, "b-1"))
    wrong_body = batch_body("b-2", "130000", events)
    wrong_province = await _post(
        bench, wrong_body, await _signed(bench, "210000", wrong_body, "b-2")
    )
    mismatch = await _post(bench, body, {**headers, IDEMPOTENCY_HEADER: "b-3"})

    assert ok.status_code == 200 and ok.json()["code"] == 0
    assert again.status_code == 200 and again.json()["message"] == "already recorded"
    assert tampered.status_code == 401
    assert reused.status_code == 409
    assert wrong_province.status_code == 401
    assert mismatch.status_code == 400
    assert bench.ministry.state.distinct_events == 1
    assert bench.ministry.state.deliveries["b-1"] == 2
