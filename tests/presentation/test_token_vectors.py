"""The QR token format, replayed from its vector file (tests/presentation/vectors/qr_tokens.json).

Fixed key, kid, claims, ``jti`` and ``now`` give one exact signing input;
the signature is randomised, so a fixed signed token is pinned and must
verify with the fixed public key, and parse to the same claims.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from wallet import jws
from wallet.crypto import sm2_backend
from wallet.presentation.tokens import mint_credential, mint_qr, parse_presentation
from wallet.totp import offline_code, verify_offline_code

VECTORS = json.loads((Path(__file__).parent / "vectors" / "qr_tokens.json").read_text("utf-8"))
PRIVATE_KEY = bytes.fromhex(VECTORS["private_key"])
PUBLIC_KEY = bytes.fromhex(VECTORS["public_key"])
ROWS = VECTORS["rows"]
IDS = [row["name"] for row in ROWS]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_minting_gives_the_pinned_signing_input(row):
    mint = mint_qr if row["mint"] == "qr" else mint_credential
    token = mint(
        row["kid"],
        PRIVATE_KEY,
        sm2_backend("tongsuo"),
        now=row["now"],
        lifetime=row["lifetime"],
        **row["claims"],
    )
    header, payload, signature = token.split(".")
    assert f"{header}.{payload}" == row["signing_input"]
    assert header == _b64(row["header_json"]) and payload == _b64(row["payload_json"])
    assert len(signature) == 86  # 64 bytes, base64url without padding
    assert jws.verify_signature(jws.decode(token), PUBLIC_KEY, sm2_backend("gmssl"))


@pytest.mark.parametrize("backend", ["tongsuo", "gmssl"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_the_pinned_token_verifies_and_parses(row, backend):
    token = row["token"]
    assert token.rsplit(".", 1)[0] == row["signing_input"]
    assert jws.verify_signature(jws.decode(token), PUBLIC_KEY, sm2_backend(backend))
    shown = parse_presentation(row.get("presentation", token))
    expected = {**row["claims"], "iat": row["now"], "exp": row["now"] + row["lifetime"]}
    assert shown.claims.as_payload() == expected == json.loads(row["payload_json"])
    assert shown.code == row.get("code")


def test_a_changed_byte_of_the_pinned_token_does_not_verify():
    token = ROWS[0]["token"]
    header, _, signature = token.split(".")
    other = _b64(ROWS[0]["payload_json"].replace('"ver":2', '"ver":3'))
    assert not jws.verify_signature(
        jws.decode(f"{header}.{other}.{signature}"), PUBLIC_KEY, sm2_backend("tongsuo")
    )


def test_the_pinned_offline_code():
    [row] = [row for row in ROWS if "code" in row]
    assert offline_code(row["totp_seed"], row["now"]) == row["code"]
    assert verify_offline_code(row["totp_seed"], row["code"], row["now"])
    assert not verify_offline_code(row["totp_seed"], row["code"], row["now"] + 90)
