"""Every holder-side endpoint is in the OpenAPI document, with examples and problem responses."""

from __future__ import annotations

import pytest

HOLDER_PATHS = {
    ("post", "/api/v1/session"),
    ("post", "/api/v1/session/renew"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/identity/transport-key"),
    ("get", "/api/v1/identity"),
    ("post", "/api/v1/identity/face-verification"),
    ("post", "/api/v1/identity"),
    ("post", "/api/v1/identity/rebind"),
    ("get", "/api/v1/licences"),
    ("post", "/api/v1/licences/{ref}/claim"),
    ("post", "/api/v1/licences/claims"),
    ("post", "/api/v1/licences/{ref}/activation"),
    ("delete", "/api/v1/licences/{ref}/activation"),
    ("get", "/api/v1/enterprises"),
    ("post", "/api/v1/enterprises"),
    ("get", "/api/v1/enterprises/{uscc}/agents"),
    ("post", "/api/v1/enterprises/{uscc}/agents"),
    ("delete", "/api/v1/enterprises/{uscc}/agents/{agent_id}"),
    ("get", "/authority/v1/claims"),
    ("get", "/authority/v1/claims/{claim_id}/photo"),
    ("post", "/authority/v1/claims/{claim_id}/approve"),
    ("post", "/authority/v1/claims/{claim_id}/reject"),
}


@pytest.fixture
async def document(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_every_holder_endpoint_is_documented(document):
    present = {(m, p) for p, item in document["paths"].items() for m in item}
    assert present >= HOLDER_PATHS


async def test_schemas_carry_examples_and_errors_are_problems(document):
    schemas = document["components"]["schemas"]
    for method, path in HOLDER_PATHS:
        op = document["paths"][path][method]
        refs = []
        if "requestBody" in op:
            refs.append(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        for status, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                if status.startswith(("4", "5")):
                    assert media == "application/problem+json", (path, status)
                elif "$ref" in content.get("schema", {}):
                    refs.append(content["schema"]["$ref"])
        for ref in refs:
            name = ref.rsplit("/", 1)[1]
            assert schemas[name].get("examples"), f"{name} ({method} {path}) has no example"
        if (
            path.startswith("/api/v1/")
            and path not in ("/api/v1/session", "/api/v1/identity/transport-key")
        ) or (method != "post" and path == "/api/v1/session"):
            assert op.get("security") == [{"holder": []}], (method, path)
            assert "401" in op["responses"]
        if path.startswith("/authority/"):
            assert op.get("security") == [{"authority": []}], (method, path)


async def test_operation_ids_are_unique(document):
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
