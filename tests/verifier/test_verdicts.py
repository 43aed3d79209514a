"""The verdict set of DESIGN §7: one enum, ASCII-only tokens, the two kinds of expiry,
and signed claims that must agree with the registry — online and offline."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
import time_machine

from tests.factories import committing
from tests.verification.conftest import add_officer
from wallet import jws
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import mint_credential, mint_qr, parse_presentation
from wallet.verification.offline import verify_offline
from wallet.verification.status_list import verify_status_list
from wallet.verification.verdict import Verdict

VERIFY = "/verifier/v1/verifications"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


async def _verify(scene, qr, officer=None):
    officer = officer or scene.officer
    response = await scene.caller.http.post(VERIFY, json={"qr": qr}, headers=officer.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _signed(scene, *, credential: bool = False, **claims) -> str:
    """A token signed by the trusted presentation key, with ``claims`` instead of the licence's."""
    key = await committing(scene.rt.keys.active_key)("presentation")
    licence = scene.licence
    fields = {
        "lic": licence.ref,
        "knd": kind_code(licence.kind),
        "iss": licence.issuer_division,
        "ver": licence.version,
        "now": scene.rt.clock.timestamp(),
        **claims,
    }
    if credential:
        return mint_credential(
            key.kid, key.private_key, scene.rt.sm2, idx=0, lifetime=3600, **fields
        )
    return mint_qr(key.kid, key.private_key, scene.rt.sm2, lifetime=60, **fields)


def _header(qr: str, **changes) -> str:
    """``qr`` with its header members changed (the signature no longer matters)."""
    head, rest = qr.split(".", 1)
    data = orjson.loads(base64.urlsafe_b64decode(head + "=="))
    data.update(changes)
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=") + "." + rest


# --- one enum --------------------------------------------------------------------------


async def test_the_openapi_documents_take_the_verdicts_from_the_enum(client):
    verifier = (await client.get("/verifier/openapi.json")).json()
    backend = (await client.get("/openapi.json")).json()
    for document, schema in ((verifier, "VerificationOut"), (backend, "VerificationSeen")):
        schemas = document["components"]["schemas"]
        assert schemas[schema]["properties"]["verdict"]["$ref"] == "#/components/schemas/Verdict"
        assert schemas["Verdict"]["enum"] == [v.value for v in Verdict]
    assert {"qr_expired", "code_mismatch"} <= {v.value for v in Verdict}


# --- ASCII only ------------------------------------------------------------------------


OTHER_DIGITS = {
    "fullwidth": "０１２３４５６７８９",
    "mathematical bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "nko": "߀߁߂߃߄߅߆߇߈߉",
}


async def test_offline_codes_are_eight_ascii_digits(scene):
    credential = await scene.credential()
    codes = []
    for digits in OTHER_DIGITS.values():
        other = "12345678".translate(str.maketrans("0123456789", digits))
        codes += [other, "1234567" + other[-1]]
    # re.match or "$" would take a code followed by a line end; fullmatch does not.
    codes += ["12345678\n1", "1234567\n", "+1234567", " 1234567", "1234_5678"]
    trust = await scene.trust()
    for code in codes:
        qr = f"{credential}~{code}"
        with pytest.raises(jws.MalformedToken):
            parse_presentation(qr)
        assert (await _verify(scene, qr))["verdict"] == "malformed", code
        offline = verify_offline(trust, None, qr, scene.rt.clock.timestamp(), scene.rt.sm2)
        assert offline.verdict is Verdict.MALFORMED, code


async def test_signed_claims_in_other_digits_are_malformed(scene):
    trust = await scene.trust()
    for claims in (
        {"iss": "210102".translate(FULLWIDTH)},
        {"iss": "２１0102"},
        {"knd": "D０７１"},
        {"iss": "210102\n"},
    ):
        qr = await _signed(scene, **claims)
        assert (await _verify(scene, qr))["verdict"] == "malformed", claims
        offline = verify_offline(trust, None, qr, scene.rt.clock.timestamp(), scene.rt.sm2)
        assert offline.verdict is Verdict.MALFORMED, claims


async def test_non_ascii_around_or_in_the_header_is_malformed(scene):
    qr = await scene.qr()
    assert (await _verify(scene, qr + "\r\n"))["verdict"] == "valid"  # a scanner's line end
    assert (await _verify(scene, qr + "\u3000"))["verdict"] == "malformed"  # ideographic space
    kid = _header(qr, kid="pres-２１００００")
    assert (await _verify(scene, kid))["verdict"] == "malformed"
    result = verify_offline(
        await scene.trust(), None, kid, scene.rt.clock.timestamp(), scene.rt.sm2
    )
    assert result.verdict is Verdict.MALFORMED


# --- qr_expired vs expired ---------------------------------------------------------------


async def test_an_expired_qr_is_not_an_expired_licence(scene, client, rt):
    now = rt.clock.timestamp()
    qr = await scene.qr(lifetime=60)
    with time_machine.travel(now + 600, tick=False):
        assert (await _verify(scene, qr))["verdict"] == "qr_expired"
        result = verify_offline(await scene.trust(), None, qr, rt.clock.timestamp(), rt.sm2)
        assert result.verdict is Verdict.QR_EXPIRED

    assert scene.licence.valid_until is not None
    after = datetime.combine(scene.licence.valid_until, datetime.min.time(), UTC).timestamp()
    with time_machine.travel(after + 2 * 86400, tick=False):
        officer = await add_officer(client, rt, "21010077", device="ENF-DEVICE-0077")
        body = await _verify(scene, await scene.qr(lifetime=60), officer)
        assert body["verdict"] == "expired"  # the licence's validity has ended
        credential = await scene.credential()
        trust = await scene.trust()
        listed = (await scene.caller.http.get("/verifier/v1/status-lists/210000")).text
        status_list = verify_status_list(listed, trust, rt.sm2)
        offline = verify_offline(
            trust, status_list, f"{credential}~00000000", rt.clock.timestamp(), rt.sm2
        )
        assert offline.verdict is Verdict.EXPIRED


# --- signed claims agree with the registry -----------------------------------------------


async def test_signed_claims_must_agree_with_the_registry(scene, caplog):
    """Our own key vouching for claims the registry does not hold: nobody can vouch for it."""
    assert (await _verify(scene, await _signed(scene)))["verdict"] == "valid"
    wrong = {
        "knd": "D999",  # another catalogue sequence
        "iss": "210103",  # another division of the same province
        "ver": scene.licence.version + 1,  # a version the registry has not got
    }
    for name, value in wrong.items():
        body = await _verify(scene, await _signed(scene, **{name: value}))
        assert body["verdict"] == "status_unavailable", name
        assert body["licence"]["face"] == {}, name
        assert "photo_url" not in body["licence"] or body["licence"]["photo_url"] is None
    assert "signed claims knd of" in caplog.text and "signed claims iss of" in caplog.text


async def test_the_offline_function_says_it_cannot_compare_claims(scene, rt):
    credential = await _signed(scene, credential=True, knd="D999")
    trust = await scene.trust()
    result = verify_offline(trust, None, f"{credential}~00000000", rt.clock.timestamp(), rt.sm2)
    assert "claims" in result.unchecked
    assert result.verdict is Verdict.STATUS_UNAVAILABLE
