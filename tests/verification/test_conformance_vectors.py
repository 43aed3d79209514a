"""docs/vectors/offline.json replayed: the offline function, and the online verifier over HTTP.

The vectors are what an enforcement app in another language proves itself
against (docs/verifier-integration.md); here the reference implementation
does: the offline function gives every case's verdict and unchecked list
with both SM2 backends, and the online verifier, holding the vectors' keys
and licence, gives every case's ``expect_online`` verdict through
``POST /verifier/v1/verifications``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import authority, version_body
from tests.verification.conformance import PATH, private_key
from tests.verification.conftest import add_officer
from wallet.authority.signing import sign_request, string_to_sign
from wallet.crypto import sm2_backend, sm3
from wallet.keys.models import KeyStatus, SigningKey
from wallet.keys.trust_list import verify_trust_list
from wallet.licences.models import Licence
from wallet.verification.offline import verify_offline
from wallet.verification.status_list import verify_status_list

VECTORS = json.loads(PATH.read_text())
CASES = VECTORS["cases"]
IDS = [case["name"] for case in CASES]


@pytest.mark.parametrize("label", sorted(VECTORS["keys"]))
def test_the_keys_are_the_labelled_ones(label):
    key = VECTORS["keys"][label]
    assert key["private_key"] == private_key(label).hex().upper()
    public = sm2_backend("gmssl").public_key(bytes.fromhex(key["private_key"])).hex()
    assert key["public_key"] == public


@pytest.mark.parametrize("backend", ["tongsuo", "gmssl"])
def test_the_status_list_unpacks_as_documented(backend):
    sm2 = sm2_backend(backend)
    now = CASES[0]["now"]
    trust = verify_trust_list(
        VECTORS["trust_list"], bytes.fromhex(VECTORS["root_public_key"]), sm2, now
    )
    listed = verify_status_list(VECTORS["status_list"]["token"], trust, sm2)
    assert listed.division == VECTORS["status_list"]["division"]
    for idx, status in VECTORS["status_list"]["statuses"].items():
        assert listed.status_at(int(idx)) == status


@pytest.mark.parametrize("backend", ["tongsuo", "gmssl"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_offline_function_gives_every_expected_verdict(case, backend):
    sm2 = sm2_backend(backend)
    trust = verify_trust_list(
        VECTORS["trust_list"], bytes.fromhex(VECTORS["root_public_key"]), sm2, case["now"]
    )
    listed = verify_status_list(VECTORS["status_list"]["token"], trust, sm2)
    result = verify_offline(
        trust, listed if case["with_status_list"] else None, case["qr"], case["now"], sm2
    )
    assert result.verdict.value == case["expect"]["verdict"]
    assert list(result.unchecked) == case["expect"]["unchecked"]


async def _vector_world(client, rt) -> dict[str, str]:
    """The vectors' licence (its ref, kind, issuer, version 2) and presentation key, online."""
    caller = await authority(client, rt)
    first = version_body("qualification", seed=77, division="210100")
    recorded = await caller.post("/authority/v1/licence-versions", first)
    assert recorded.status_code == 201, recorded.text
    second = first | {"version": 2, "change_type": "change"}
    assert (await caller.post("/authority/v1/licence-versions", second)).status_code == 201
    await Licence.filter(ref=recorded.json()["ref"]).update(ref="LABCDEFGHIJKLMNOP")
    key = VECTORS["keys"]["presentation"]
    now = rt.clock.now()
    await SigningKey.create(
        kid=key["kid"],
        use="presentation",
        division=None,
        public_key=key["public_key"],
        private_wrapped=rt.keys._wrap(key["kid"], bytes.fromhex(key["private_key"])),
        status=KeyStatus.ACTIVE.value,
        active_slot=None,  # trusted, but the server keeps signing with its own key
        not_before=now - timedelta(days=30),
        created_at=now - timedelta(days=30),
    )
    rt.verifier.forget_trust()
    officer = await add_officer(client, rt, "21010099")
    return officer.headers


@pytest.mark.parametrize(
    "case", [c for c in CASES if "expect_online" in c], ids=lambda c: c["name"]
)
async def test_online_verifier_gives_every_expected_verdict(client, rt, case):
    at = datetime.fromtimestamp(case["now"], UTC)
    with time_machine.travel(at, tick=True):
        headers = await _vector_world(client, rt)
        response = await client.post(
            "/verifier/v1/verifications", json={"qr": case["qr"]}, headers=headers
        )
    assert response.status_code == 200, response.text
    assert response.json()["verdict"] == case["expect_online"]


SIGNING = json.loads((PATH.parent / "request_signing.json").read_text())


@pytest.mark.parametrize("row", SIGNING["rows"], ids=lambda r: r["name"])
def test_request_signing_vectors(row):
    body = row["body"].encode()
    assert sm3(body).hex() == row["body_sm3"]
    signed = string_to_sign(row["method"], row["path"], str(row["timestamp"]), row["nonce"], body)
    assert signed.decode() == row["string_to_sign"]
    headers = sign_request(
        row["secret"],
        row["method"],
        row["path"],
        body,
        timestamp=row["timestamp"],
        nonce=row["nonce"],
    )
    assert headers == row["headers"]
