"""The conformance vectors of docs/vectors/offline.json: how they are made.

Fixed keys (private scalars derived from labels with SM3, so anyone can
re-derive them), a trust list signed by the root key, the status list of
province 210000 signed by its seal key, and QR strings signed by the
presentation key; each case gives the verdict an offline verifier must
answer at ``now`` and the checks it must say it could not make.
``python -m tests.verification.conformance`` rewrites the file; the replay
test checks the file against the code, so a change to either shows.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from wallet import jws
from wallet.crypto import SM2Backend, sm2_backend, sm3
from wallet.keys.trust_list import verify_trust_list
from wallet.presentation.tokens import mint_credential, mint_qr
from wallet.verification.offline import verify_offline
from wallet.verification.status_list import encode_statuses, sign_status_list, verify_status_list

PATH = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "offline.json"
# SM2's group order: a private scalar lies in [1, n - 2].
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
NOW = 1_795_000_000  # 2026-11-18T11:06:40Z
STATUS_IAT = NOW - 3600
STATUS_LIFETIME = 86400
LICENCE = {"lic": "LABCDEFGHIJKLMNOP", "knd": "D071", "iss": "210100", "ver": 2}
STATUSES = {0: "valid", 1: "revoked", 2: "suspended", 3: "cancelled", 4: "expired", 5: "valid"}


#: The online verifier's verdicts where they are not ``code_mismatch``: it checks the TOTP
#: code, and ``12345678`` is never a credential's code of the moment.
ONLINE = {
    "offline credential past its exp": "qr_expired",
    "online QR (no index: status unknown offline)": "valid",
    "online QR past its exp": "qr_expired",
    "payload altered after signing": "bad_signature",
    "signed by a key not in the trust list": "unknown_key",
    "not a QR of this system": "malformed",
    "credential without its code": "malformed",
}


def private_key(label: str) -> bytes:
    """A fixed private scalar: SM3 of ``rtel-vector:<label>``, reduced into [1, n - 2]."""
    number = int.from_bytes(sm3(f"rtel-vector:{label}".encode()), "big") % (_N - 2) + 1
    return number.to_bytes(32, "big")


KEYS = {
    "root": ("root-vector-01", None, "root"),
    "seal": ("seal-210000-v1", "210000", "seal"),
    "presentation": ("pres-vector-01", None, "presentation"),
}


def _keys(sm2: SM2Backend) -> dict[str, dict[str, Any]]:
    out = {}
    for label, (kid, division, use) in KEYS.items():
        private = private_key(label)
        out[label] = {
            "kid": kid,
            "division": division,
            "use": use,
            "private_key": private.hex().upper(),
            "public_key": sm2.public_key(private).hex(),
        }
    return out


def _trust_list(keys: dict[str, dict[str, Any]], sm2: SM2Backend) -> str:
    entries = [
        {
            "kid": k["kid"],
            "division": k["division"],
            "use": k["use"],
            "pub": k["public_key"],
            "nbf": NOW - 30 * 86400,
            "exp": None,
            "status": "active",
        }
        for k in keys.values()
    ]
    payload = {"iss": "rtel-wallet", "iat": NOW - 600, "keys": entries}
    header = {"alg": "SM2", "kid": keys["root"]["kid"], "typ": "rtel-trust-list"}
    return jws.encode(header, payload, bytes.fromhex(keys["root"]["private_key"]), sm2)


def _tamper(token: str) -> str:
    header, _, signature = token.split(".")
    claims = jws.decode(token).payload | {"ver": 3}
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    forged_segment = forged.rstrip(b"=").decode()
    return f"{header}.{forged_segment}.{signature}"


def build(sm2: SM2Backend) -> dict[str, Any]:
    """The whole vector file, cases' expectations computed by the offline verifier."""
    keys = _keys(sm2)
    pres = bytes.fromhex(keys["presentation"]["private_key"])
    kid = keys["presentation"]["kid"]
    trust = _trust_list(keys, sm2)
    packed = encode_statuses(STATUSES.items(), 8)
    status = sign_status_list(
        "210000",
        packed,
        kid=keys["seal"]["kid"],
        private_key=bytes.fromhex(keys["seal"]["private_key"]),
        sm2=sm2,
        now=STATUS_IAT,
        lifetime=STATUS_LIFETIME,
    )
    other = private_key("not-listed")

    def cred(idx: int, **kw: Any) -> str:
        claims = LICENCE | {"now": NOW - 3600, "lifetime": 7 * 86400} | kw
        jti = f"vector-cred-{idx:04d}"
        return mint_credential(kid, pres, sm2, idx=idx, jti=jti, **claims) + "~12345678"

    qr = mint_qr(kid, pres, sm2, now=NOW - 10, lifetime=60, jti="vector-qr-00000001", **LICENCE)
    cases = [
        ("offline credential, status valid", cred(0), NOW, True),
        ("offline credential, status revoked", cred(1), NOW, True),
        ("offline credential, status suspended", cred(2), NOW, True),
        ("offline credential, status cancelled", cred(3), NOW, True),
        ("offline credential, licence expired", cred(4), NOW, True),
        ("offline credential, index past the list", cred(40), NOW, True),
        ("offline credential past its exp", cred(5, now=NOW - 8 * 86400), NOW, True),
        ("offline credential, status list stale", cred(0), STATUS_IAT + STATUS_LIFETIME + 1, True),
        ("offline credential, no status list", cred(0), NOW, False),
        (
            "offline credential of another province",
            cred(0, iss="110100", knd="D071"),
            NOW,
            True,
        ),
        ("online QR (no index: status unknown offline)", qr, NOW, True),
        ("online QR past its exp", qr, NOW + 120, True),
        ("payload altered after signing", _tamper(qr), NOW, True),
        (
            "signed by a key not in the trust list",
            mint_qr("pres-unknown-01", other, sm2, now=NOW - 10, lifetime=60, **LICENCE),
            NOW,
            True,
        ),
        ("not a QR of this system", "https://example.com/licence?id=1", NOW, True),
        ("credential without its code", cred(0).split("~")[0], NOW, True),
    ]
    trusted = verify_trust_list(trust, bytes.fromhex(keys["root"]["public_key"]), sm2, NOW)
    listed = verify_status_list(status, trusted, sm2)
    rows = []
    for name, presented, now, with_list in cases:
        result = verify_offline(trusted, listed if with_list else None, presented, now, sm2)
        rows.append(
            {
                "name": name,
                "qr": presented,
                "now": now,
                "with_status_list": with_list,
                "expect": {"verdict": result.verdict.value, "unchecked": list(result.unchecked)},
                "expect_online": ONLINE.get(name, "code_mismatch"),
            }
        )
    return {
        "description": "Offline conformance vectors (docs/verifier-integration.md). Pin "
        "root_public_key; verify trust_list under it at now; verify status_list under the "
        "seal key the trust list names; then each case's qr at its now (with the status list "
        "when with_status_list) must give expect.verdict, and the verifier must report "
        "expect.unchecked as the checks it could not make. Private keys are given so "
        "implementers can mint their own tokens; they are test keys, derived from labels "
        "(SM3 of 'rtel-vector:<label>' mod n-2, plus 1). Signatures are randomised: "
        "re-signing gives other strings that verify all the same. expect_online is the "
        "online verifier's verdict (POST /verifier/v1/verifications at now) when it trusts "
        "these keys and holds licence LABCDEFGHIJKLMNOP (kind qualification, knd D071, issuer "
        "210100, version 2, valid) with no activation: it checks the TOTP code, and 12345678 "
        "is never a credential's code, so credentials answer code_mismatch online.",
        "root_public_key": keys["root"]["public_key"],
        "keys": keys,
        "trust_list": trust,
        "status_list": {
            "division": "210000",
            "token": status,
            "statuses": {str(i): s for i, s in STATUSES.items()},
        },
        "cases": rows,
    }


if __name__ == "__main__":
    PATH.parent.mkdir(parents=True, exist_ok=True)
    data = build(sm2_backend("gmssl"))
    PATH.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    sys.stdout.write(f"wrote {PATH}\n")
