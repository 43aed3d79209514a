"""Declared bounds: every parameter is bounded in the documents, and out-of-bounds values
are refused at the door (404 for a reference that cannot exist, 422 otherwise), never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.factories import authority
from tests.holder_helpers import DEVICE, bearer, sign_in
from tests.verification.conftest import add_officer

LONG_REF = "L" + "A" * 24
HOLDER_REF_PATHS = [
    ("POST", f"/api/v1/licences/{LONG_REF}/claim", None),
    ("POST", f"/api/v1/licences/{LONG_REF}/activation", {"device_id": DEVICE}),
    ("DELETE", f"/api/v1/licences/{LONG_REF}/activation", None),
    ("POST", f"/api/v1/licences/{LONG_REF}/presentations", None),
    ("GET", f"/api/v1/licences/{LONG_REF}/verifications", None),
]


@pytest.mark.parametrize(("method", "path", "body"), HOLDER_REF_PATHS)
async def test_a_long_ref_on_holder_paths_is_not_found(client, holder, method, path, body):
    token = await sign_in(client, "bounds")
    response = await client.request(method, path, json=body, headers=bearer(token, DEVICE))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "licence_not_found"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/authority/v1/licences/{LONG_REF}", None),
        ("GET", f"/authority/v1/licences/{LONG_REF}/versions/1", None),
        ("GET", "/authority/v1/licences/LAAAAAAAAAAAAAAAA/versions/1000", None),
        ("GET", "/authority/v1/licences/LAAAAAAAAAAAAAAAA/versions/x", None),
        ("POST", f"/authority/v1/licences/{LONG_REF}/status", {"action": "suspend", "reason": "r"}),
        ("GET", "/authority/v1/claims/not-a-uuid/photo", None),
    ],
)
async def test_a_malformed_reference_on_authority_paths_is_not_found(
    client, rt, method, path, body
):
    caller = await authority(client, rt)
    response = await caller.call(method, path, body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_19_character_uscc_is_refused(client, holder):
    token = await sign_in(client, "bounds")
    response = await client.get(
        "/api/v1/enterprises/" + "9" * 19 + "/agents", headers=bearer(token)
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {"field": "path.uscc", "rule": "pattern", "message": error["message"]}
    assert "9" * 19 not in str(response.json()["errors"])


async def test_a_bulk_claim_with_a_long_ref_is_refused(client, holder):
    token = await sign_in(client, "bounds")
    response = await client.post(
        "/api/v1/licences/claims", json={"refs": ["L" + "A" * 28]}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "refs.0"


@pytest.mark.parametrize("cursor", [str(2**63), str(2**64), "-1", "x"])
async def test_a_verifications_cursor_outside_64_bits_is_refused(client, holder, cursor):
    token = await sign_in(client, "bounds")
    response = await client.get(
        f"/api/v1/licences/LAAAAAAAAAAAAAAAA/verifications?cursor={cursor}",
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/authority/v1/licences/search", {"number": "1", "cursor": "L" * 100}, "cursor"),
        ("POST", "/authority/v1/licences/search", {"number": "1", "kind": "k" * 200}, "kind"),
        ("GET", "/authority/v1/licences?kind=" + "k" * 200, None, "query.kind"),
        ("GET", "/authority/v1/licences?cursor=" + "L" * 100, None, "query.cursor"),
    ],
)
async def test_authority_lists_refuse_unbounded_values(client, rt, method, path, body, field):
    caller = await authority(client, rt)
    response = await caller.call(method, path, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_a_holder_listing_refuses_a_long_kind(client, holder):
    token = await sign_in(client, "bounds")
    response = await client.get("/api/v1/licences?kind=" + "k" * 200, headers=bearer(token))
    assert response.status_code == 422


async def test_a_long_ref_on_the_photo_path_is_not_found_not_unavailable(client, rt):
    officer = await add_officer(client, rt, "21010055")
    response = await client.get(f"/verifier/v1/licences/{LONG_REF}/photo", headers=officer.headers)
    assert response.status_code == 404


async def test_a_province_status_list_matching_the_pattern_is_not_a_422(client, rt):
    # 000000 is no province: the documented pattern now names the provinces.
    assert (await client.get("/verifier/v1/status-lists/000000")).status_code == 422
    document = (await client.get("/verifier/openapi.json")).json()
    operation = document["paths"]["/verifier/v1/status-lists/{division}"]["get"]
    [param] = operation["parameters"]
    assert re.fullmatch(param["schema"]["pattern"], "000000") is None
    assert re.fullmatch(param["schema"]["pattern"], "210000")
    missing = await client.get("/verifier/v1/status-lists/110000")
    assert missing.status_code == 404


def _unbounded(schema: dict[str, Any], components: dict[str, Any], at: str) -> list[str]:
    """Where a schema lets a string, integer or array grow without a declared bound."""
    if "$ref" in schema:
        return _unbounded(components[schema["$ref"].rsplit("/", 1)[1]], components, at)
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, components, at)
    kind = schema.get("type")
    if kind == "string" and not {"maxLength", "pattern", "enum", "const", "format"} & set(schema):
        found.append(at)
    if kind == "integer" and not {"minimum", "maximum"} <= set(schema) and "enum" not in schema:
        found.append(at)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(at)
        found += _unbounded(schema.get("items", {}), components, at + "[]")
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, components, f"{at}.{name}")
    return found


@pytest.mark.parametrize("url", ["/openapi.json", "/verifier/openapi.json"])
async def test_every_parameter_and_body_field_is_bounded_in_the_document(client, url):
    document = (await client.get(url)).json()
    components = document["components"]["schemas"]
    unbounded = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                unbounded += _unbounded(param["schema"], components, f"{where} {param['name']}")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                unbounded += _unbounded(body["schema"], components, f"{where} body")
    assert unbounded == []
