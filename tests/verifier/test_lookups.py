"""The lookup rule (DESIGN §7): inspectors see status and a minimal face; ID lookups are for
supervisors, whatever field the ID number comes in."""

from __future__ import annotations

import pytest

from tests.factories import version_body
from tests.verification.conftest import add_officer
from wallet.verification.models import VerificationRecord

LOOKUPS = "/verifier/v1/lookups"
QUALIFICATION = version_body("qualification", seed=11)  # the scene's licence
ID_NUMBER = QUALIFICATION["face"]["certificate_number"]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@pytest.mark.parametrize(
    "query",
    [
        {"number": ID_NUMBER},
        {"number": ID_NUMBER.lower()},
        {"number": f" {ID_NUMBER[:6]} {ID_NUMBER[6:]} "},
        {"number": _fullwidth(ID_NUMBER)},
        {"number": ID_NUMBER, "kind": "qualification"},
        {"id_number": ID_NUMBER},
    ],
)
async def test_inspectors_cannot_look_up_by_resident_id_number(scene, query):
    response = await scene.caller.http.post(LOOKUPS, json=query, headers=scene.officer.headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ID_NUMBER not in response.text
    assert await VerificationRecord.all().count() == 0


async def test_supervisors_see_the_full_face(scene, client, rt):
    boss = await add_officer(client, rt, "21010099", role="supervisor", device="ENF-DEVICE-0099")
    for query in ({"number": ID_NUMBER}, {"id_number": ID_NUMBER}):
        response = await scene.caller.http.post(LOOKUPS, json=query, headers=boss.headers)
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        face = result["licence"]["face"]
        assert result["verdict"] == "valid"
        assert face["name"] == QUALIFICATION["face"]["name"]
        assert face["certificate_number"] == ID_NUMBER
        assert face["address"] and face["birth_date"]
        assert result["licence"]["photo_url"] is not None
    assert await VerificationRecord.filter(mode="lookup").count() == 2


async def test_inspectors_get_the_status_and_a_minimal_face(scene):
    body = version_body("business_permit", seed=12)
    ref = (await scene.caller.post("/authority/v1/licence-versions", body)).json()["ref"]
    response = await scene.caller.http.post(
        LOOKUPS, json={"number": body["face"]["permit_number"]}, headers=scene.officer.headers
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["verdict"] == "valid" and result["licence"]["ref"] == ref
    assert result["status_checked_at"] is not None
    face = result["licence"]["face"]
    chief = body["face"]["person_in_charge"]
    assert face["person_in_charge"] != chief and face["person_in_charge"][0] == chief[0]
    assert "*" in face["person_in_charge"]
    assert "address" not in face
    assert face["permit_number"] == body["face"]["permit_number"]
    assert result["licence"]["photo_url"] is None


async def test_an_inspector_lookup_opens_no_photo(scene):
    body = version_body("transport_cert", seed=13)
    ref = (await scene.caller.post("/authority/v1/licence-versions", body)).json()["ref"]
    response = await scene.caller.http.post(
        LOOKUPS, json={"plate_number": body["face"]["plate_number"]}, headers=scene.officer.headers
    )
    assert [r["verdict"] for r in response.json()["results"]] == ["valid"]
    assert "operator_address" not in response.json()["results"][0]["licence"]["face"]
    photo = await scene.caller.http.get(
        f"/verifier/v1/licences/{ref}/photo", headers=scene.officer.headers
    )
    assert photo.status_code == 403
