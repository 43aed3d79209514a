"""The sharing paths in the OpenAPI document: declared, bounded, secured, and what they answer."""

from __future__ import annotations

import jsonschema_rs

import miniprogram_api.app as backend_app
from tests.holder_helpers import bearer
from tests.sharing.helpers import add_party, grant, world

DOCUMENT = backend_app.openapi_document()
PATHS = {
    ("post", "/authority/v1/parties"): "authority",
    ("get", "/authority/v1/parties"): "authority",
    ("post", "/authority/v1/parties/{party_id}/disable"): "authority",
    ("post", "/authority/v1/grants"): "authority",
    ("post", "/api/v1/grants"): "holder",
    ("get", "/api/v1/grants"): "holder",
    ("get", "/api/v1/grants/{grant}"): "holder",
    ("delete", "/api/v1/grants/{grant}"): "holder",
    ("get", "/api/v1/grants/{grant}/accesses"): "holder",
    ("post", "/api/v1/share-codes"): "holder",
    ("post", "/share/v1/copies"): "party",
    ("post", "/share/v1/share-codes/redeem"): "party",
}


def _valid(component: str, value: object) -> list[str]:
    schema = {**DOCUMENT, "$ref": f"#/components/schemas/{component}"}
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    return [error.message for error in validator.iter_errors(value)]


def test_every_sharing_path_is_declared_secured_and_bounded():
    for (method, path), scheme in PATHS.items():
        op = DOCUMENT["paths"][path][method]
        assert op["security"] == [{scheme: []}], (method, path)
        assert "401" in op["responses"] and "503" in op["responses"]
        for param in op.get("parameters", []):
            schema = param["schema"]
            if schema.get("type") == "string" and "enum" not in schema:
                assert "pattern" in schema or "maxLength" in schema, (path, param["name"])
            if schema.get("type") == "integer":
                assert {"minimum", "maximum"} <= set(schema), (path, param["name"])
    for path in ("/share/v1/copies", "/share/v1/share-codes/redeem"):
        content = DOCUMENT["paths"][path]["post"]["responses"]["201"]["content"]
        assert set(content) == {"application/json", "application/pdf"}
        assert "404" in DOCUMENT["paths"][path]["post"]["responses"]
    assert "party" in DOCUMENT["components"]["securitySchemes"]


async def test_answers_match_their_schemas(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 71)
    made = await grant(client, driver.token, uscc, [driver.ref], rt)
    assert _valid("GrantOut", made.json()) == []
    listed = await client.get("/api/v1/grants", headers=bearer(driver.token))
    assert _valid("GrantPage", listed.json()) == []
    copy = await party.post("/share/v1/copies", {"grant": made.json()["id"], "licence": driver.ref})
    assert _valid("CopyOut", copy.json()) == []
    accesses = await client.get(
        f"/api/v1/grants/{made.json()['id']}/accesses", headers=bearer(driver.token)
    )
    assert _valid("AccessPage", accesses.json()) == []
    parties = await auth.get("/authority/v1/parties")
    assert _valid("PartyPage", parties.json()) == []
