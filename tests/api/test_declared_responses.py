"""What the OpenAPI documents declare is what the servers return.

Faces are checked against the schema their ``kind`` chooses (generated from
the catalogue), for every kind; the signed documents' payloads (QR, offline
credential, trust list, status list) against their components; every
success answer but 204 declares its media types and a schema; the declared
examples of response schemas validate.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

import miniprogram_api.app as backend_app
import verifier.app as verifier_app
from tests.factories import authority, version_body
from tests.holder_helpers import DEVICE, bearer, driver_body, identity_of, issue, sign_in
from tests.verification.conftest import add_officer
from wallet import jws
from wallet.licences.catalogue import CATALOGUE

BACKEND = backend_app.openapi_document()
VERIFIER = verifier_app.openapi_document()


def _errors(document: dict[str, Any], component: str, value: Any) -> list[str]:
    # The document is the root, so "#/components/schemas/..." references resolve in it.
    schema = {**document, "$ref": f"#/components/schemas/{component}"}
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    return [error.message for error in validator.iter_errors(value)]


def test_every_success_declares_its_media_types_and_schema():
    for document in (BACKEND, VERIFIER):
        for path, item in document["paths"].items():
            for method, op in item.items():
                for status, response in op["responses"].items():
                    if not status.startswith("2") or status == "204":
                        continue
                    content = response.get("content")
                    assert content, (method, path, status)
                    for media, entry in content.items():
                        assert entry.get("schema"), (method, path, status, media)


def test_presentation_images_are_declared():
    ok = BACKEND["paths"]["/api/v1/licences/{ref}/presentations"]["post"]["responses"]["201"]
    assert set(ok["content"]) == {"application/json", "image/png", "image/svg+xml"}


def test_every_kind_has_its_face_schemas_chosen_by_kind():
    schemas = BACKEND["components"]["schemas"]
    branches = schemas["VersionOut"]["oneOf"]
    assert {b["properties"]["kind"]["const"] for b in branches} == set(CATALOGUE)
    for kind in CATALOGUE.values():
        face = schemas[f"Face_{kind.code}"]
        assert set(face["properties"]) == {f.name for f in kind.fields}
        assert set(face["required"]) == {f.name for f in kind.fields if f.required}


def test_declared_response_examples_validate():
    for document in (BACKEND, VERIFIER):
        for name, schema in document["components"]["schemas"].items():
            for example in schema.get("examples", []):
                if name.endswith("In"):
                    continue  # request examples: sent by tests/api/test_examples.py
                assert _errors(document, name, example) == [], name


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
async def test_recorded_faces_match_their_kinds_schema(client, rt, kind):
    caller = await authority(client, rt)
    recorded = await caller.post("/authority/v1/licence-versions", version_body(kind, seed=5))
    assert recorded.status_code == 201, recorded.text
    version = await caller.get(f"/authority/v1/licences/{recorded.json()['ref']}/versions/1")
    assert version.status_code == 200
    assert _errors(BACKEND, "VersionOut", version.json()) == []
    other = next(k for k in CATALOGUE if k != kind)
    assert _errors(BACKEND, "VersionOut", version.json() | {"kind": other})  # chosen by kind


async def test_shown_faces_and_signed_documents_match_their_schemas(client, rt, holder):
    drv = driver_body(31, photo=True)
    [ref] = await issue(rt, [drv])
    token = await sign_in(client, "shown")
    headers = bearer(token, DEVICE)
    for method, path, body in (
        ("POST", "/api/v1/identity", identity_of(drv)),
        ("POST", f"/api/v1/licences/{ref}/claim", None),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
    activated = await client.post(
        f"/api/v1/licences/{ref}/activation", json={"device_id": DEVICE}, headers=headers
    )
    assert activated.status_code == 201, activated.text
    listing = await client.get("/api/v1/licences", headers=headers)
    assert _errors(BACKEND, "HolderLicencePage", listing.json()) == []
    shown = await client.post(f"/api/v1/licences/{ref}/presentations", headers=headers)
    officer = await add_officer(client, rt, "21010031")
    verdict = await client.post(
        "/verifier/v1/verifications", json={"qr": shown.json()["qr"]}, headers=officer.headers
    )
    assert verdict.status_code == 200 and verdict.json()["verdict"] == "valid", verdict.text
    assert _errors(VERIFIER, "VerificationOut", verdict.json()) == []

    trust = (await client.get("/verifier/v1/trust-list")).text
    status = (await client.get("/verifier/v1/status-lists/210000")).text
    credential = activated.json()["offline_credential"]
    for document, component, token_text in (
        (BACKEND, "QrJws", shown.json()["qr"]),
        (BACKEND, "CredentialJws", credential),
        (VERIFIER, "TrustListJws", trust),
        (VERIFIER, "StatusListJws", status),
    ):
        assert _errors(document, component, token_text) == [], component
        payload = document["components"]["schemas"][component]["x-jws-payload"]["$ref"]
        name = payload.rsplit("/", 1)[1]
        assert _errors(document, name, jws.decode(token_text).payload) == [], name
