"""docs/vectors/papers.json replayed: the offline function, and the online verifier over HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import authority, version_body
from tests.verification.conftest import add_officer
from tests.verification.paper_vectors import PAPERS, build
from wallet.crypto import sm2_backend
from wallet.keys.models import KeyStatus, SigningKey
from wallet.keys.trust_list import verify_trust_list
from wallet.licences.models import Licence
from wallet.sharing.models import Grant, GrantLicence, RelyingParty
from wallet.verification.offline import verify_offline

VECTORS = json.loads(PAPERS.read_text())
CASES = VECTORS["cases"]


def test_the_file_is_what_the_generator_makes():
    """Everything but the randomised signatures: the same keys, cases and expectations."""
    fresh = build(sm2_backend("gmssl"))
    assert fresh["keys"] == VECTORS["keys"]
    assert [c["name"] for c in fresh["cases"]] == [c["name"] for c in CASES]
    for made, stored in zip(fresh["cases"], CASES, strict=True):
        assert (
            made["expect"] == stored["expect"] and made["expect_online"] == stored["expect_online"]
        )
        assert made["qr"].split(".")[:2] == stored["qr"].split(".")[:2]


@pytest.mark.parametrize("backend", ["tongsuo", "gmssl"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_offline_function_gives_every_expected_verdict(case, backend):
    sm2 = sm2_backend(backend)
    trust = verify_trust_list(
        VECTORS["trust_list"], bytes.fromhex(VECTORS["root_public_key"]), sm2, case["now"]
    )
    result = verify_offline(trust, None, case["qr"], case["now"], sm2)
    assert result.verdict.value == case["expect"]["verdict"]
    assert result.document == case["expect"]["document"]
    assert list(result.unchecked) == case["expect"]["unchecked"]
    assert result.grant_live is None


async def _paper_world(client, rt) -> dict[str, str]:
    """The vectors' licence (version 2), their presentation and copy keys, and the grant."""
    caller = await authority(client, rt)
    first = version_body("qualification", seed=77, division="210100")
    recorded = await caller.post("/authority/v1/licence-versions", first)
    assert recorded.status_code == 201, recorded.text
    second = first | {"version": 2, "change_type": "change"}
    assert (await caller.post("/authority/v1/licence-versions", second)).status_code == 201
    await Licence.filter(ref=recorded.json()["ref"]).update(ref="LABCDEFGHIJKLMNOP")
    now = rt.clock.now()
    for label in ("presentation", "copy"):
        key = VECTORS["keys"][label]
        await SigningKey.create(
            kid=key["kid"],
            use=label,
            division=None,
            public_key=key["public_key"],
            private_wrapped=rt.keys._wrap(key["kid"], bytes.fromhex(key["private_key"])),
            status=KeyStatus.ACTIVE.value,
            active_slot=None,  # trusted, but the server keeps signing with its own keys
            not_before=now - timedelta(days=30),
            created_at=now - timedelta(days=30),
        )
    party = await RelyingParty.create(
        party_id="party-vectors",
        name="核验示例物流有限公司",
        uscc=VECTORS["grant"]["aud"],
        purposes=["employment"],
        secret_sealed="-",
        status="active",
        created_by="test",
        created_at=now,
    )
    grant = await Grant.create(
        id=uuid.uuid4(),
        public_id=VECTORS["grant"]["gid"],
        party=party,
        source="holder",
        granted_by="test",
        purpose="employment",
        fields_granted=["name", "qualification_category"],
        expires_at=now + timedelta(days=60),
        created_at=now,
    )
    licence = await Licence.get(ref="LABCDEFGHIJKLMNOP")
    await GrantLicence.create(grant=grant, licence_id=licence.id)
    rt.verifier.forget_trust()
    officer = await add_officer(client, rt, "21010098")
    return officer.headers


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
async def test_online_verifier_gives_every_expected_verdict(client, rt, case):
    at = datetime.fromtimestamp(case["now"], UTC)
    with time_machine.travel(at, tick=True):
        headers = await _paper_world(client, rt)
        response = await client.post(
            "/verifier/v1/verifications", json={"qr": case["qr"]}, headers=headers
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    expected = case["expect_online"]
    assert answer["verdict"] == expected["verdict"]
    copy = answer["copy"]
    assert (copy["grant_live"] if copy else None) == expected["grant_live"]


def test_wallet_verify_offline_reads_papers(tmp_path, capsys):
    from httpkit.cli import main

    trust = tmp_path / "trust-list.jws"
    trust.write_text(VECTORS["trust_list"])
    base = ["verify-offline", "--root-key", VECTORS["root_public_key"], "--trust-list", str(trust)]
    copy = next(c for c in CASES if c["name"] == "annotated copy")
    assert main([*base, "--at", str(copy["now"]), "--json", copy["qr"]]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "status_unavailable" and result["document"] == "copy"
    assert result["grant_live"] is None and "grant" in result["unchecked"]
    assert result["copy"]["gid"] == VECTORS["grant"]["gid"]
    assert main([*base, "--at", str(copy["now"]), copy["qr"]]) == 1
    line = capsys.readouterr().out.strip()
    assert "annotated copy" in line and f"grant {VECTORS['grant']['gid']} not checkable" in line
    printed = next(c for c in CASES if c["name"] == "printable credential")
    assert main([*base, "--at", str(printed["now"]), printed["qr"]]) == 1
    assert "printable credential" in capsys.readouterr().out
