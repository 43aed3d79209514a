"""Bad input on every sharing endpoint: a 4xx problem, and nothing changed in the database."""

from __future__ import annotations

import orjson
import pytest

from tests.holder_helpers import bearer, sign_in
from tests.sharing.helpers import add_party, until, world
from wallet.audit.models import AuditEntry
from wallet.sharing.models import Access, Grant, GrantLicence, RelyingParty, ShareCode

TABLES = (RelyingParty, Grant, GrantLicence, ShareCode, Access, AuditEntry)


async def _snapshot():
    return [await table.all().count() for table in TABLES] + [
        sorted(await Grant.all().values_list("uses", "revoked_at"))
    ]


def _grant_body(uscc, ref, rt, **kw):
    return {
        "party": uscc,
        "licences": [ref],
        "fields": ["name"],
        "purpose": "employment",
        "until": until(rt),
    } | kw


# (who, method, path, body or a function of the world giving it, expected status)
CASES = [
    ("holder", "POST", "/api/v1/grants", "not json", 400),
    ("holder", "POST", "/api/v1/grants", {}, 422),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], x=1),
        422,
    ),
    ("holder", "POST", "/api/v1/grants", lambda w: _grant_body("12345", w["ref"], w["rt"]), 422),
    ("holder", "POST", "/api/v1/grants", lambda w: _grant_body(w["uscc"], "L1", w["rt"]), 422),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], fields=["Name"]),
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], fields=["x" * 40]),
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], max_uses=1001),
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], until="tomorrow"),
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], licences=["L" + "A" * 16] * 51),
        422,
    ),
    ("none", "POST", "/api/v1/grants", lambda w: _grant_body(w["uscc"], w["ref"], w["rt"]), 401),
    ("holder", "GET", "/api/v1/grants?limit=0", None, 422),
    ("holder", "GET", "/api/v1/grants?limit=201", None, 422),
    ("holder", "GET", "/api/v1/grants?cursor=G%2F", None, 422),
    ("holder", "GET", "/api/v1/grants/nope", None, 404),
    ("holder", "GET", "/api/v1/grants/GAAAAAAAAAAAAAAAA", None, 404),
    ("holder", "DELETE", "/api/v1/grants/GAAAAAAAAAAAAAAAA", None, 404),
    ("holder", "DELETE", "/api/v1/grants/G１AAAAAAAAAAAAAA", None, 404),
    ("other", "DELETE", lambda w: f"/api/v1/grants/{w['gid']}", None, 404),
    ("other", "GET", lambda w: f"/api/v1/grants/{w['gid']}/accesses", None, 404),
    ("holder", "GET", lambda w: f"/api/v1/grants/{w['gid']}/accesses?cursor=-1", None, 422),
    ("holder", "GET", lambda w: f"/api/v1/grants/{w['gid']}/accesses?limit=x", None, 422),
    ("holder", "POST", "/api/v1/share-codes", {}, 422),
    (
        "holder",
        "POST",
        "/api/v1/share-codes",
        lambda w: {
            "licence": w["ref"],
            "fields": ["name"],
            "purpose": "employment",
            "lifetime": 59,
        },
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/share-codes",
        lambda w: {"licence": w["ref"], "fields": ["name"], "purpose": "employment", "form": "sms"},
        422,
    ),
    (
        "holder",
        "POST",
        "/api/v1/share-codes",
        lambda w: {"licence": w["ref"], "fields": ["plate_number"], "purpose": "employment"},
        422,
    ),
    (
        "other",
        "POST",
        "/api/v1/share-codes",
        lambda w: {"licence": w["ref"], "fields": ["name"], "purpose": "employment"},
        404,
    ),
    ("party", "POST", "/share/v1/copies", {}, 422),
    ("party", "POST", "/share/v1/copies", lambda w: {"grant": w["gid"], "licence": "x"}, 422),
    (
        "party",
        "POST",
        "/share/v1/copies?format=doc",
        lambda w: {"grant": w["gid"], "licence": w["ref"]},
        422,
    ),
    (
        "unsigned",
        "POST",
        "/share/v1/copies",
        lambda w: {"grant": w["gid"], "licence": w["ref"]},
        401,
    ),
    (
        "authority",
        "POST",
        "/share/v1/copies",
        lambda w: {"grant": w["gid"], "licence": w["ref"]},
        401,
    ),
    (
        "party",
        "POST",
        "/authority/v1/parties",
        {"name": "x", "uscc": "91210102MA0000007X", "purposes": ["employment"]},
        401,
    ),
    ("authority", "POST", "/authority/v1/parties", {}, 422),
    (
        "authority",
        "POST",
        "/authority/v1/parties",
        {"name": "x", "uscc": "91210102MA00000071", "purposes": ["employment"]},
        422,
    ),
    (
        "authority",
        "POST",
        "/authority/v1/parties",
        lambda w: {"name": "x", "uscc": w["uscc"], "purposes": ["employment"]},
        409,
    ),
    (
        "authority",
        "POST",
        "/authority/v1/parties",
        {"name": "x", "uscc": "91210102MA0000007X", "purposes": []},
        422,
    ),
    (
        "authority",
        "POST",
        "/authority/v1/parties",
        {"name": "x", "uscc": "91210102MA0000007X", "purposes": ["employment", "employment"]},
        422,
    ),
    (
        "authority",
        "POST",
        "/authority/v1/parties",
        {"name": "", "uscc": "91210102MA0000007X", "purposes": ["employment"]},
        422,
    ),
    ("authority", "GET", "/authority/v1/parties?limit=501", None, 422),
    ("authority", "GET", "/authority/v1/parties?status=gone", None, 422),
    ("authority", "POST", "/authority/v1/parties/rp_zz/disable", None, 404),
    ("authority", "POST", "/authority/v1/parties/rp_0000000000000000/disable", None, 404),
    ("authority", "POST", "/authority/v1/grants", {}, 422),
    (
        "authority",
        "POST",
        "/authority/v1/grants",
        lambda w: _grant_body(w["uscc"], "LAAAAAAAAAAAAAAAA", w["rt"]),
        404,
    ),
    (
        "authority",
        "POST",
        "/authority/v1/grants",
        lambda w: _grant_body(w["uscc"], w["ref"], w["rt"], purpose="inter"),
        422,
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "status"), CASES)
async def test_bad_input_changes_nothing(client, rt, holder, who, method, path, body, status):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 31)
    made = await client.post(
        "/api/v1/grants", json=_grant_body(uscc, driver.ref, rt), headers=bearer(driver.token)
    )
    assert made.status_code == 201, made.text
    other = await sign_in(client, "stranger")
    w = {"rt": rt, "uscc": uscc, "ref": driver.ref, "gid": made.json()["id"]}
    if callable(path):
        path = path(w)
    if callable(body):
        body = body(w)
    raw = body.encode() if isinstance(body, str) else None
    before = await _snapshot()
    if who in ("party", "authority"):
        caller = party if who == "party" else auth
        content = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
        headers = caller.headers(method, path, content)
        response = await client.request(method, path, content=content, headers=headers)
    else:
        headers = {"Content-Type": "application/json"}
        if who == "holder":
            headers |= bearer(driver.token)
        elif who == "other":
            headers |= bearer(other)
        kwargs = {"content": raw} if raw is not None else ({} if body is None else {"json": body})
        response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, (method, path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert await _snapshot() == before
