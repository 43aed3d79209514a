"""The conformance vectors of docs/vectors/papers.json: printable credentials and copies.

The same fixed keys as docs/vectors/offline.json (private scalars derived
from labels with SM3), plus a copy key; a trust list signed by the root key
that lists the presentation and the copy key; then ``rtel-print`` and
``rtel-copy`` strings, each with the verdict and unchecked list an offline
verifier must answer at ``now``, and what the online verifier answers when
it holds the vectors' licence (version 2) and grant.
``python -m tests.verification.paper_vectors`` rewrites the file; the replay
test checks the file against the code.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.verification.conformance import (
    LICENCE,
    NOW,
    PATH,
    _tamper,
    _trust_list,
    private_key,
)
from wallet import jws
from wallet.crypto import SM2Backend, sm2_backend
from wallet.keys.trust_list import verify_trust_list
from wallet.presentation.tokens import mint_print
from wallet.verification.offline import verify_offline

PAPERS = PATH.parent / "papers.json"
GRANT = "GABCDEFGHIJKLMNOP"
PARTY = "91210100MA0000000X"
FIELDS = {"name": "张三", "qualification_category": "经营性道路货物运输驾驶员"}
KEYS = {
    "root": ("root-vector-01", "root"),
    "presentation": ("pres-vector-01", "presentation"),
    "copy": ("copy-vector-01", "copy"),
}

#: name -> (online verdict, online grant_live for a copy whose seal held)
ONLINE: dict[str, tuple[str, bool | None]] = {
    "printable credential": ("valid", None),
    "printable credential of an older version": ("superseded", None),
    "printable credential past its exp": ("qr_expired", None),
    "printable credential signed by the copy key": ("unknown_key", None),
    "printable credential altered after signing": ("bad_signature", None),
    "printable credential living longer than 731 days": ("malformed", None),
    "annotated copy": ("valid", True),
    "annotated copy of a grant never issued": ("valid", False),
    "annotated copy of an older version": ("superseded", True),
    "annotated copy past its exp": ("qr_expired", None),
    "annotated copy signed by the presentation key": ("unknown_key", None),
    "annotated copy altered after signing": ("bad_signature", None),
    "annotated copy with a field name outside ASCII": ("malformed", None),
}


def _keys(sm2: SM2Backend) -> dict[str, dict[str, Any]]:
    out = {}
    for label, (kid, use) in KEYS.items():
        private = private_key(label)
        out[label] = {
            "kid": kid,
            "division": None,
            "use": use,
            "private_key": private.hex().upper(),
            "public_key": sm2.public_key(private).hex(),
        }
    return out


def build(sm2: SM2Backend) -> dict[str, Any]:
    """The whole vector file, the offline expectations computed by the offline function."""
    keys = _keys(sm2)
    pres = (keys["presentation"]["kid"], bytes.fromhex(keys["presentation"]["private_key"]))
    copy_key = (keys["copy"]["kid"], bytes.fromhex(keys["copy"]["private_key"]))
    trust = _trust_list(keys, sm2)

    def printed(key: tuple[str, bytes] = pres, **kw: Any) -> str:
        claims = LICENCE | {"now": NOW - 86400, "exp": NOW + 364 * 86400} | kw
        return mint_print(key[0], key[1], sm2, jti="vector-print-000000001", **claims)

    def copy(key: tuple[str, bytes] = copy_key, **kw: Any) -> str:
        payload = {
            "cid": "vector-copy-0000000001",
            "gid": GRANT,
            "lic": LICENCE["lic"],
            "knd": LICENCE["knd"],
            "iss": LICENCE["iss"],
            "ver": LICENCE["ver"],
            "aud": PARTY,
            "pur": "employment",
            "sta": "valid",
            "fld": FIELDS,
            "iat": NOW - 86400,
            "exp": NOW + 29 * 86400,
        } | kw
        return jws.encode({"kid": key[0], "typ": "rtel-copy"}, payload, key[1], sm2)

    too_long = jws.encode(
        {"kid": pres[0], "typ": "rtel-print"},
        jws.decode(printed()).payload | {"exp": NOW + 800 * 86400},
        pres[1],
        sm2,
    )
    cases = [
        ("printable credential", printed()),
        ("printable credential of an older version", printed(ver=1)),
        ("printable credential past its exp", printed(now=NOW - 20 * 86400, exp=NOW - 3600)),
        ("printable credential signed by the copy key", printed(key=copy_key)),
        ("printable credential altered after signing", _tamper(printed())),
        ("printable credential living longer than 731 days", too_long),
        ("annotated copy", copy()),
        ("annotated copy of a grant never issued", copy(gid="GZZZZZZZZZZZZZZZZ")),
        ("annotated copy of an older version", copy(ver=1)),
        ("annotated copy past its exp", copy(iat=NOW - 20 * 86400, exp=NOW - 3600)),
        ("annotated copy signed by the presentation key", copy(key=pres)),
        ("annotated copy altered after signing", _tamper(copy())),
        ("annotated copy with a field name outside ASCII", copy(fld={"姓名": "张三"})),
    ]
    trusted = verify_trust_list(trust, bytes.fromhex(keys["root"]["public_key"]), sm2, NOW)
    rows = []
    for name, presented in cases:
        result = verify_offline(trusted, None, presented, NOW, sm2)
        verdict, grant_live = ONLINE[name]
        rows.append(
            {
                "name": name,
                "qr": presented,
                "now": NOW,
                "expect": {
                    "verdict": result.verdict.value,
                    "document": result.document,
                    "unchecked": list(result.unchecked),
                },
                "expect_online": {"verdict": verdict, "grant_live": grant_live},
            }
        )
    return {
        "description": "Conformance vectors for printable credentials (rtel-print, signed by a "
        "presentation key) and annotated copies (rtel-copy, signed by a copy key); see "
        "docs/verifier-integration.md. Pin root_public_key; verify trust_list under it at now; "
        "then each case's qr at its now must give expect.verdict offline (no status list: "
        "papers carry no index, so an authentic one is status_unavailable offline) and "
        "report expect.unchecked. Keys are the test keys of offline.json (SM3 of "
        "'rtel-vector:<label>' mod n-2, plus 1), plus label 'copy'. A string signed by a key "
        "of the other use is unknown_key. expect_online is the online verifier's answer "
        "(POST /verifier/v1/verifications at now: verdict, and copy.grant_live for a copy "
        "whose seal held) when it trusts these keys, holds licence LABCDEFGHIJKLMNOP (kind "
        "qualification, knd D071, issuer 210100, version 2, valid) and grant "
        f"{GRANT} of party {PARTY} for it, live.",
        "root_public_key": keys["root"]["public_key"],
        "keys": keys,
        "trust_list": trust,
        "grant": {"gid": GRANT, "aud": PARTY, "lic": LICENCE["lic"]},
        "cases": rows,
    }


if __name__ == "__main__":
    data = build(sm2_backend("gmssl"))
    PAPERS.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    sys.stdout.write(f"wrote {PAPERS}\n")
