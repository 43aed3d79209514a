"""Face-to-face share codes: one-time use, hashes only, attempt limits, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.holder_helpers import bearer
from tests.sharing.helpers import add_party, world
from wallet import jws
from wallet.clock import FixedClock
from wallet.sharing.codes import ALPHABET, LOCATOR_LENGTH
from wallet.sharing.models import Access, Grant, ShareCode
from wallet.sharing.service import SharingLimits

REDEEM = "/share/v1/share-codes/redeem"


async def _code(client, driver, form="qr", **kw):
    body = {
        "licence": driver.ref,
        "fields": ["name", "driving_classes"],
        "purpose": "employment",
        "form": form,
    } | kw
    response = await client.post("/api/v1/share-codes", json=body, headers=bearer(driver.token))
    assert response.status_code == 201, response.text
    return response.json()["code"]


def _wrong(code: str) -> str:
    """The same locator, another secret."""
    raw = code.replace("-", "")
    last = ALPHABET[(ALPHABET.index(raw[-1]) + 1) % len(ALPHABET)]
    return raw[:-1] + last


async def test_a_qr_code_is_redeemed_once_and_only_its_hash_is_kept(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 11)
    other, _ = await add_party(auth, 12, name="另一家公司")
    code = await _code(client, driver)
    assert code.startswith("S") and len(code) == 23  # 128 random bits
    [row] = await ShareCode.all()
    assert code not in str(row.__dict__) and row.code_hash != code

    copy = await party.post(REDEEM, {"code": code})
    assert copy.status_code == 201, copy.text
    assert set(copy.json()["fields"]) == {"name", "driving_classes"}
    payload = jws.decode(copy.json()["copy"]).payload
    assert payload["aud"] == uscc and set(payload["fld"]) == {"name", "driving_classes"}
    grant = await Grant.get(public_id=copy.json()["grant"])
    assert (grant.source, grant.max_uses, grant.uses) == ("share_code", 1, 1)
    again = await other.post(REDEEM, {"code": code})
    assert again.status_code == 404 and again.json()["code"] == "no_live_grant"
    assert (await party.post(REDEEM, {"code": code})).status_code == 404
    listed = await client.get("/api/v1/grants", headers=bearer(driver.token))
    assert [g["source"] for g in listed.json()["items"]] == ["share_code"]
    [access] = await Access.all()
    assert access.form == "qr"


async def test_a_code_expires_in_minutes(client, rt, holder):
    auth, driver = await world(client, rt)
    party, _ = await add_party(auth, 13)
    code = await _code(client, driver, lifetime=60)
    previous = rt.sharing.clock
    rt.sharing.clock = FixedClock(rt.clock.now() + timedelta(seconds=61))
    try:
        late = await party.post(REDEEM, {"code": code})
    finally:
        rt.sharing.clock = previous
    assert late.status_code == 404
    assert await Grant.all().count() == 0


async def test_a_short_code_read_aloud(client, rt, holder):
    auth, driver = await world(client, rt)
    party, _ = await add_party(auth, 14)
    code = await _code(client, driver, form="short")
    assert len(code) == 9 and code[4] == "-"
    # Read aloud and typed back in lower case without the dash.
    copy = await party.post(REDEEM, {"code": code.replace("-", " ").lower()})
    assert copy.status_code == 201, copy.text
    assert (await Access.get()).form == "short"


async def test_guessing_a_short_code_cannot_lock_out_the_party_shown_it(client, rt, holder):
    auth, driver = await world(client, rt)
    shown, _ = await add_party(auth, 15)
    guesser, _ = await add_party(auth, 16, name="猜码公司")
    code = await _code(client, driver, form="short")
    for _ in range(3):
        wrong = await guesser.post(REDEEM, {"code": _wrong(code)})
        assert wrong.status_code == 404 and wrong.json()["code"] == "no_live_grant"
    # The guesser's tries at this code are used up, even with the right code...
    blocked = await guesser.post(REDEEM, {"code": code})
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert (await ShareCode.get()).failures == 3  # counted although each answer was a 404
    # ...and the party that was shown the code still redeems it.
    assert (await shown.post(REDEEM, {"code": code})).status_code == 201


async def test_a_short_code_burns_after_enough_wrong_tries_from_all_parties(client, rt, holder):
    auth, driver = await world(client, rt)
    previous = rt.sharing.limits
    rt.sharing.limits = SharingLimits(code_failures=4)
    try:
        parties = [(await add_party(auth, 20 + n, name=f"公司{n}"))[0] for n in range(3)]
        code = await _code(client, driver, form="short")
        for party in parties[:2]:
            for _ in range(2):
                assert (await party.post(REDEEM, {"code": _wrong(code)})).status_code == 404
        row = await ShareCode.get()
        assert row.burned_at is not None and row.locator is None
        assert (await parties[2].post(REDEEM, {"code": code})).status_code == 404
    finally:
        rt.sharing.limits = previous
    assert await Grant.all().count() == 0


async def test_a_party_has_a_limited_number_of_wrong_codes(client, rt, holder):
    auth, driver = await world(client, rt)
    party, _ = await add_party(auth, 17)
    code = await _code(client, driver, form="short")
    unused = "".join(ALPHABET[(ALPHABET.index(c) + 7) % 32] for c in code[:LOCATOR_LENGTH])
    for n in range(10):
        guess = f"{unused}{n:05d}"
        assert (await party.post(REDEEM, {"code": guess})).status_code == 404
    limited = await party.post(REDEEM, {"code": code})
    assert limited.status_code == 429 and limited.json()["retry_after"] >= 1
    assert await Grant.all().count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"code": ""},
        {"code": "x" * 65},
        {"code": "not-a-code!"},
        {"code": "ＡＢＣＤ１２３４"},  # fullwidth: ASCII only
        {},
        {"code": "S" + "A" * 22, "extra": 1},
    ],
)
async def test_bad_codes_are_422_and_count_nothing(client, rt, holder, body):
    auth, _ = await world(client, rt)
    party, _ = await add_party(auth, 18)
    response = await party.post(REDEEM, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await rt.cache.keys("rtel:v1:share-party:*") == []
