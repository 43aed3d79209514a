"""``wallet keys ...`` end to end in a subprocess.

The runner calls the console script's real ``main`` once per command line
(same error handling and exit codes), all in one process.
"""

import orjson

from tests.cli_helpers import wallet_many
from tests.factories import committing
from tests.keys.helpers import make_store
from wallet.jws import decode
from wallet.keys import SigningKey, verify_trust_list


async def _keys(settings, *commands):
    """Run each ``wallet keys`` command line in one subprocess; (code, stdout, stderr) each."""
    return await wallet_many(settings, *(["keys", *command] for command in commands))


async def test_init_rotate_list_and_trust_list(rt, settings):
    init, again, rotate, listing, trust_list, trust_json = await _keys(
        settings,
        ["init", "--province", "210000", "--province", "110000"],
        ["init", "--province", "210000"],
        ["rotate", "--use", "presentation"],
        ["list"],
        ["trust-list"],
        ["trust-list", "--json"],
    )
    assert init[0] == 0, init[2]
    assert init[1].count("created") == 5
    assert "copy-" in init[1]
    assert "seal-210000-" in init[1] and "seal-110000-" in init[1]
    assert again[0] == 0 and again[1].count("exists") == 4 and "created" not in again[1]

    old_pres = (await SigningKey.get(use="presentation", status="retired")).kid
    new_pres = (await SigningKey.get(use="presentation", status="active")).kid
    assert rotate[0] == 0 and new_pres in rotate[1]

    code, out, _ = listing
    assert code == 0
    lines = out.splitlines()
    header = ["KID", "USE", "DIVISION", "STATUS", "CREATED", "RETIRED", "SIGNED_UNTIL"]
    header += ["NBF", "EXP", "LISTED", "PUBLIC_KEY"]
    assert lines[0].split() == header
    assert len(lines) == 1 + 6
    assert any(line.startswith("copy-") and " copy " in line for line in lines)
    assert any(line.startswith(old_pres) and " retired " in line for line in lines)
    for row in await SigningKey.all():
        line = next(line for line in lines if line.startswith(row.kid))
        assert line.split()[-1] == row.public_key and line.split()[-2] == "yes"
    store, _ = make_store(rt)
    printed = "".join(result[1] + result[2] for result in (init, again, rotate, listing))
    for row in await SigningKey.all():
        assert row.private_wrapped not in printed
    for use, division in [
        ("root", None),
        ("presentation", None),
        ("copy", None),
        ("seal", "210000"),
    ]:
        private_key = (await committing(store.active_key)(use, division)).private_key
        assert private_key.hex() not in printed.lower()

    assert trust_list[0] == 0
    token = trust_list[1].strip()
    root_pub = (await committing(store.active_key)("root")).public_key
    trust = verify_trust_list(token, root_pub, rt.sm2, decode(token).payload["iat"])
    assert old_pres in trust.keys and new_pres in trust.keys and len(trust.keys) == 6
    copy_kid = (await SigningKey.get(use="copy", status="active")).kid
    assert copy_kid in trust.keys

    assert trust_json[0] == 0
    payload = orjson.loads(trust_json[1])
    assert payload["iss"] == "rtel-wallet" and len(payload["keys"]) == 6
    assert "copy" in {entry["use"] for entry in payload["keys"]}

    # list --json carries each listed key's trust-list entry field for field.
    (listed_json,) = await _keys(settings, ["list", "--json"])
    assert listed_json[0] == 0, listed_json[2]
    by_kid = {entry["kid"]: entry for entry in orjson.loads(listed_json[1])}
    assert set(by_kid) == {entry["kid"] for entry in payload["keys"]}
    for entry in payload["keys"]:
        assert by_kid[entry["kid"]]["listed"] is True
        assert {k: by_kid[entry["kid"]][k] for k in entry} == entry


async def test_bad_input_and_missing_keys(rt, settings):
    bad_province, no_division, bad_use, no_root = await _keys(
        settings,
        ["init", "--province", "210100"],
        ["rotate", "--use", "seal"],
        ["rotate", "--use", "stamp"],
        ["trust-list"],
    )
    assert bad_province[0] == 1 and "210100 is not" in bad_province[2]
    assert no_division[0] == 1 and "division" in no_division[2]
    assert bad_use[0] == 2
    assert no_root[0] == 1 and "wallet keys init" in no_root[2]
    assert await SigningKey.all().count() == 0


async def test_revoke(rt, settings):
    store, _ = make_store(rt)
    await committing(store.init)([])
    kid = (await committing(store.active_key)("presentation")).kid
    revoke, unknown, listing = await _keys(
        settings,
        ["revoke", kid, "--reason", "test"],
        ["revoke", "pres-00000000", "--reason", "x"],
        ["list"],
    )
    assert revoke[0] == 0 and kid in revoke[1], revoke[2]
    assert (await SigningKey.get(kid=kid)).status == "revoked"
    assert unknown[0] == 1 and "no signing key" in unknown[2]
    revoked = next(line for line in listing[1].splitlines() if line.startswith(kid))
    assert " revoked " in revoked and revoked.split()[-2] == "no"
