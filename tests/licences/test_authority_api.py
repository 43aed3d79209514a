"""The registry feed over signed HTTP: versions, seals, status, lookups."""

from __future__ import annotations

import copy

import orjson
import pytest

from tests.factories import authority, committing, version_body
from wallet.crypto import sm2_backend
from wallet.licences.catalogue import CATALOGUE
from wallet.licences.models import Licence, LicenceVersion, OutboxEvent
from wallet.licences.seal import verify_seal
from wallet.licences.status import read_cached_status

FEED = "/authority/v1/licence-versions"


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
async def test_every_kind_is_recorded_and_sealed(client, rt, kind):
    caller = await authority(client, rt)
    response = await caller.post(FEED, version_body(kind, seed=7))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == kind and body["status"] == "valid" and body["version"] == 1
    assert body["identifier"].startswith("1.2.156.3005.2." + CATALOGUE[kind].type_code)
    version = await caller.get(f"/authority/v1/licences/{body['ref']}/versions/1")
    assert version.status_code == 200
    v = version.json()
    key = await committing(rt.keys.verification_key)(v["seal_kid"])
    assert key is not None and key.division == "210000"
    for backend in ("tongsuo", "gmssl"):
        assert verify_seal(
            v["document"].encode(), v["seal"], bytes.fromhex(key.public_key), sm2_backend(backend)
        )
    assert orjson.loads(v["document"])["face"] == v["face"]


async def test_personal_numbers_are_masked_and_never_stored_clear(client, rt):
    caller = await authority(client, rt)
    body = version_body("qualification", seed=3)
    id_number = body["face"]["certificate_number"]
    response = await caller.post(FEED, body)
    assert response.json()["number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    row = await Licence.get(ref=response.json()["ref"])
    version = await LicenceVersion.get(licence_id=row.id)
    for stored in (row.number_index, row.number_display, version.document_sealed):
        assert id_number not in stored
        assert body["face"]["name"] not in stored


async def test_same_version_twice_is_idempotent(client, rt):
    caller = await authority(client, rt)
    body = version_body("business_permit", seed=1)
    first = await caller.post(FEED, body)
    second = await caller.post(FEED, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["ref"] == second.json()["ref"]
    assert await LicenceVersion.all().count() == 1
    assert await OutboxEvent.all().count() == 1


async def test_same_version_with_other_content_is_a_conflict(client, rt):
    caller = await authority(client, rt)
    body = version_body("business_permit", seed=1)
    await caller.post(FEED, body)
    changed = copy.deepcopy(body)
    changed["face"]["business_scope"] = "道路危险货物运输"
    response = await caller.post(FEED, changed)
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert await LicenceVersion.all().count() == 1


async def test_new_version_supersedes_and_old_versions_are_refused(client, rt):
    caller = await authority(client, rt)
    body = version_body("transport_cert", seed=2)
    ref = (await caller.post(FEED, body)).json()["ref"]
    renewed = copy.deepcopy(body) | {"version": 2, "change_type": "annual_review"}
    renewed["face"] = dict(body["face"], valid_until="2030-05-05")
    response = await caller.post(FEED, renewed)
    assert response.status_code == 201 and response.json()["ref"] == ref
    assert response.json()["version"] == 2 and response.json()["identifier"].split(".")[-2] == "002"
    assert response.json()["valid_until"] == "2030-05-05"
    cached = await read_cached_status(rt.cache, ref)
    assert cached is not None and cached.version == 2
    stale = copy.deepcopy(body) | {"version": 1, "reason": "late duplicate"}
    assert (await caller.post(FEED, stale)).status_code == 409


async def test_status_lifecycle_and_write_through(client, rt):
    caller = await authority(client, rt)
    ref = (await caller.post(FEED, version_body("qualification", seed=4))).json()["ref"]
    status = f"/authority/v1/licences/{ref}/status"

    async def act(action):
        return await caller.post(status, {"action": action, "reason": "测试"})

    assert (await act("suspend")).json()["status"] == "suspended"
    assert (await read_cached_status(rt.cache, ref)).status == "suspended"
    assert (await act("suspend")).status_code == 409
    assert (await act("reinstate")).json()["status"] == "valid"
    assert (await act("cancel")).json()["status"] == "cancelled"
    forbidden = await act("reinstate")
    assert forbidden.status_code == 409 and forbidden.json()["code"] == "invalid_transition"
    assert (await read_cached_status(rt.cache, ref)).status == "cancelled"
    assert (
        await caller.post(FEED, version_body("qualification", seed=4, version=2))
    ).status_code == 409
    topics = (
        await OutboxEvent.filter(licence_ref=ref).order_by("id").values_list("topic", flat=True)
    )
    assert topics == ["licence.version", "licence.status", "licence.status", "licence.status"]


async def test_revoked_is_final(client, rt):
    caller = await authority(client, rt)
    ref = (await caller.post(FEED, version_body("taxi_driver", seed=5))).json()["ref"]
    path = f"/authority/v1/licences/{ref}/status"
    assert (await caller.post(path, {"action": "revoke", "reason": "x"})).status_code == 200
    for action in ("reinstate", "suspend", "cancel"):
        assert (await caller.post(path, {"action": action, "reason": "x"})).status_code == 409


async def test_expired_is_derived(client, rt):
    caller = await authority(client, rt)
    body = version_body("business_permit", seed=6)
    body["face"]["valid_from"], body["face"]["valid_until"] = "2020-01-01", "2023-12-31"
    body["face"]["issue_date"] = "2020-01-01"
    response = await caller.post(FEED, body)
    assert response.json()["status"] == "expired"
    assert response.json()["registry_status"] == "valid"


async def test_search_by_identifiers_and_pagination(client, rt):
    caller = await authority(client, rt)
    person = version_body("qualification", seed=8)
    await caller.post(FEED, person)
    vehicles = [version_body("transport_cert", seed=100 + i) for i in range(5)]
    for v in vehicles:
        v["holder"] = {"uscc": vehicles[0]["holder"]["uscc"]}
        assert (await caller.post(FEED, v)).status_code == 201
    found = await caller.post(
        "/authority/v1/licences/search", {"id_number": person["face"]["certificate_number"]}
    )
    assert [i["kind"] for i in found.json()["items"]] == ["qualification"]
    by_plate = await caller.post(
        "/authority/v1/licences/search", {"plate_number": vehicles[2]["face"]["plate_number"]}
    )
    assert len(by_plate.json()["items"]) == 1
    fleet = await caller.post(
        "/authority/v1/licences/search", {"uscc": vehicles[0]["holder"]["uscc"], "limit": 2}
    )
    seen, page = [], fleet.json()
    while True:
        seen += [i["ref"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        page = (
            await caller.post(
                "/authority/v1/licences/search",
                {"uscc": vehicles[0]["holder"]["uscc"], "limit": 2, "cursor": page["next_cursor"]},
            )
        ).json()
    assert len(seen) == len(set(seen)) == 5
    listed = await caller.get("/authority/v1/licences?kind=transport_cert&limit=500")
    assert len(listed.json()["items"]) == 5
    nothing = await caller.post(
        "/authority/v1/licences/search", {"id_number": "110101199001011237"}
    )
    assert nothing.json()["items"] == []


async def test_bad_feed_input_is_422_listing_every_field(client, rt):
    caller = await authority(client, rt)
    body = version_body("qualification", seed=9)
    body["face"]["certificate_number"] = body["face"]["certificate_number"][:-1] + (
        "0" if body["face"]["certificate_number"][-1] != "0" else "1"
    )
    body["face"].pop("name")
    body["issuer"]["division"] = "999999"
    response = await caller.post(FEED, body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"face.certificate_number", "face.name", "issuer.division"} <= fields
    assert body["face"]["certificate_number"] not in response.text
    assert await Licence.all().count() == 0


@pytest.mark.parametrize(
    "mutate,status",
    [
        (lambda b: b.pop("face"), 422),
        (lambda b: b.update(version="one"), 422),
        (lambda b: b.update(kind="spaceship"), 422),
        (lambda b: b.update(unexpected=1), 422),
        (lambda b: b.update(version=0), 422),
    ],
)
async def test_malformed_bodies(client, rt, mutate, status):
    caller = await authority(client, rt)
    body = version_body("business_permit")
    mutate(body)
    assert (await caller.post(FEED, body)).status_code == status
    assert await Licence.all().count() == 0


async def test_vehicle_without_operator_is_rejected(client, rt):
    caller = await authority(client, rt)
    body = version_body("transport_cert")
    body.pop("holder")
    response = await caller.post(FEED, body)
    assert response.status_code == 422
    assert any(e["field"] == "holder.uscc" for e in response.json()["errors"])


async def test_client_acts_only_in_its_division(client, rt):
    shenyang = await authority(client, rt, division="210100")
    response = await shenyang.post(FEED, version_body("business_permit", division="210202"))
    assert response.status_code == 403
    ok = await shenyang.post(FEED, version_body("business_permit", division="210102"))
    assert ok.status_code == 201
    dalian = await authority(client, rt, division="210200")
    ref = ok.json()["ref"]
    missing = await dalian.get("/authority/v1/licences/LAAAAAAAAAAAAAAAA")
    for answer in (
        await dalian.get(f"/authority/v1/licences/{ref}"),
        await dalian.get(f"/authority/v1/licences/{ref}/versions/1"),
        await dalian.post(
            f"/authority/v1/licences/{ref}/status", {"action": "suspend", "reason": "测试"}
        ),
    ):  # not 403: another division's licence looks exactly like a missing one
        assert answer.status_code == 404
        assert (answer.json()["code"], answer.json()["detail"]) == (
            missing.json()["code"],
            missing.json()["detail"],
        )
    assert (await Licence.get(ref=ref)).status == "valid"


async def test_missing_seal_key_is_a_clear_error(client, rt):
    caller = await authority(client, rt, division="000000", provinces=("210000",))
    response = await caller.post(FEED, version_body("business_permit", division="110101"))
    assert response.status_code == 404 and "wallet keys init" in response.json()["detail"]
    assert await Licence.all().count() == 0


async def test_unknown_reference(client, rt):
    caller = await authority(client, rt)
    assert (await caller.get("/authority/v1/licences/LAAAAAAAAAAAAAAAA")).status_code == 404
    assert (
        await caller.get("/authority/v1/licences/LAAAAAAAAAAAAAAAA/versions/x")
    ).status_code == 404


async def test_another_division_learns_nothing_from_a_resend(client, rt):
    shenyang = await authority(client, rt, division="210100")
    body = version_body("business_permit", division="210102")
    assert (await shenyang.post(FEED, body)).status_code == 201
    dalian = await authority(client, rt, division="210200")
    changed = copy.deepcopy(body)
    changed["face"]["business_scope"] = "道路危险货物运输"
    assert (await dalian.post(FEED, changed)).status_code == 403  # not 409: no existence leak
    assert (await dalian.post(FEED, body)).status_code == 403


@pytest.mark.parametrize(
    "query", ["status=lost", "division=21", "limit=0", "limit=501", "limit=many"]
)
async def test_bad_list_queries_are_422(client, rt, query):
    caller = await authority(client, rt)
    response = await caller.get(f"/authority/v1/licences?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("query.")


def _problem(response):
    """What a 401 tells the caller (not where or when it was asked)."""
    body = response.json()
    return response.status_code, body["type"], body["code"], body["title"], body.get("detail")


async def test_unknown_clients_look_like_bad_signatures(client, rt):
    from wallet.authority.models import AuthorityClient
    from wallet.crypto import public_key_hex

    path = "/authority/v1/licences?limit=5"
    caller = await authority(client, rt)
    known_id, secret = caller.client_id, caller.secret
    caller.secret = "not-the-secret"
    wrong_secret = await caller.get(path)
    caller.secret, caller.client_id = secret, "ac_0000000000000000"
    unknown = await caller.get(path)
    caller.client_id = known_id
    await AuthorityClient.filter(client_id=known_id).update(enabled=False)
    disabled = await caller.get(path)
    await AuthorityClient.filter(client_id=known_id).update(enabled=True)
    assert (await caller.get(path)).status_code == 200
    [answer] = {_problem(r) for r in (wrong_secret, unknown, disabled)}
    assert answer[0] == 401 and answer[2] == "bad_signature"

    # SM2: a client without an SM2 key, an unknown client and a forged signature.
    private = rt.sm2.generate_private_key()
    sm2_caller = await authority(client, rt)
    await AuthorityClient.filter(client_id=sm2_caller.client_id).update(
        sm2_public_key=public_key_hex(rt.sm2.public_key(private))
    )

    async def sm2_get(client_id):
        headers = caller.headers("GET", path, b"") | {
            "X-Client-Id": client_id,
            "X-Signature-Alg": "SM2",
            "X-Signature": rt.sm2.sign(private, b"something else").hex(),
        }
        return await client.get(path, headers=headers)

    sm2_answers = {
        _problem(await sm2_get(cid))
        for cid in (known_id, "ac_0000000000000000", sm2_caller.client_id)
    }
    assert sm2_answers == {_problem(wrong_secret)}


async def test_stale_requests_are_stale_whoever_sends_them(client, rt):
    caller = await authority(client, rt)
    stale = rt.clock.timestamp() - 10_000
    known = await caller.get("/authority/v1/licences", timestamp=stale)
    caller.client_id = "ac_0000000000000000"
    unknown = await caller.get("/authority/v1/licences", timestamp=stale)
    assert _problem(known) == _problem(unknown)
    assert known.json()["code"] == "stale_request"
