"""``wallet party add|list|disable`` end to end in a subprocess."""

from __future__ import annotations

import random

import orjson

from tests.cli_helpers import wallet_many
from wallet.identifiers import make_uscc
from wallet.sharing.models import RelyingParty


async def _party(settings, *commands):
    return await wallet_many(settings, *(["party", *command] for command in commands))


async def test_add_list_disable(rt, settings):
    uscc = make_uscc(random.Random(61))
    add = ["add", "--name", "示例保险公司", "--uscc", uscc]
    added, again, bad_uscc, bad_purpose = await _party(
        settings,
        [*add, "--purpose", "insurance", "--purpose", "employment"],
        [*add, "--purpose", "insurance"],
        ["add", "--name", "x", "--uscc", uscc[:-1] + "0", "--purpose", "insurance"],
        ["add", "--name", "x", "--uscc", uscc, "--purpose", "gossip"],
    )
    assert added[0] == 0, added[2]
    party = await RelyingParty.get(uscc=uscc)
    assert f"party_id: {party.party_id}" in added[1]
    secret = added[1].split("secret:")[1].split()[0]
    assert len(secret) >= 40 and secret not in party.secret_sealed
    assert again[0] == 1 and "registered" in again[2]
    assert bad_uscc[0] == 1 and bad_purpose[0] == 2
    assert await RelyingParty.all().count() == 1

    listing, as_json, disabled, listed_after = await _party(
        settings, ["list"], ["list", "--json"], ["disable", party.party_id], ["list", "--json"]
    )
    assert listing[0] == 0
    assert listing[1].splitlines()[0].split() == [
        "PARTY_ID",
        "USCC",
        "STATUS",
        "PURPOSES",
        "SM2",
        "CREATED_AT",
        "NAME",
    ]
    assert party.party_id in listing[1] and secret not in listing[1]
    [row] = orjson.loads(as_json[1])
    assert row["party_id"] == party.party_id and row["purposes"] == ["insurance", "employment"]
    assert row["status"] == "active" and "secret" not in row
    assert disabled[0] == 0 and "disabled" in disabled[1]
    assert orjson.loads(listed_after[1])[0]["status"] == "disabled"
