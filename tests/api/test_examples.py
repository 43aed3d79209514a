"""Every request example in both OpenAPI documents is sent, and succeeds.

One story runs through the examples: the registry feeds the example
business permit (its person in charge is 王伟) and a qualification
certificate of 王伟; 王伟 signs in with the example login code, binds with
the example body, claims and activates, binds the example enterprise and
names the example agent; an officer signs in with the example body and
verifies a QR. Examples are sent verbatim, except the values listed in
``RUNTIME`` that only exist at run time (ciphertexts under this run's
transport key, a face session id, licence refs, a real photo, a fresh QR):
the test fills in those fields, and only those.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import httpx
import pytest

import miniprogram_api.app as backend_app
import verifier.app as verifier_app
from tests.factories import authority, committing, version_body
from tests.holder_helpers import bearer, jpeg
from wallet.crypto import sm2_encrypt
from wallet.uow import unit_of_work

#: (document, method, path, example index) -> the fields filled in at run time
RUNTIME: dict[tuple[str, str, str, int], set[str]] = {
    ("backend", "post", "/api/v1/identity", 1): {"name", "id_number", "verify_id"},
    ("backend", "post", "/api/v1/identity/rebind", 0): {"name", "id_number", "verify_id"},
    ("backend", "post", "/api/v1/licences/{ref}/claim", 1): {"photo"},
    ("backend", "post", "/api/v1/licences/claims", 0): {"refs"},
    ("verifier", "post", "/verifier/v1/verifications", 0): {"qr"},
}
NAME, ID_NUMBER = "王伟", "210102199003071233"
AGENT = ("李娜", "210102198805061243")


def _examples() -> dict[tuple[str, str, str, int], dict[str, Any]]:
    found = {}
    for doc, document in (
        ("backend", backend_app.openapi_document()),
        ("verifier", verifier_app.openapi_document()),
    ):
        schemas: Any = document["components"]["schemas"]  # type: ignore[index]
        for path, item in document["paths"].items():  # type: ignore[attr-defined]
            for method, op in item.items():
                body = op.get("requestBody")
                if body is None:
                    continue
                ref = body["content"]["application/json"]["schema"]["$ref"]
                for n, example in enumerate(schemas[ref.rsplit("/", 1)[1]].get("examples", [])):
                    found[doc, method, path, n] = example
    return found


EXAMPLES = _examples()


class Sender:
    """Sends examples, recording which were sent and what was filled in."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.sent: set[tuple[str, str, str, int]] = set()

    def body(self, key: tuple[str, str, str, int], **runtime: Any) -> dict[str, Any]:
        assert set(runtime) == RUNTIME.get(key, set()), key
        body = copy.deepcopy(EXAMPLES[key])
        assert set(runtime) <= set(body), key
        self.sent.add(key)
        return body | runtime

    async def send(
        self,
        key: tuple[str, str, str, int],
        path: str | None = None,
        headers: dict[str, str] | None = None,
        **runtime: Any,
    ) -> httpx.Response:
        _, method, template, _ = key
        response = await self.http.request(
            method, path or template, json=self.body(key, **runtime), headers=headers
        )
        assert 200 <= response.status_code < 300, (key, response.status_code, response.text)
        return response


async def _sign_in(http: httpx.AsyncClient, user: str) -> str:
    response = await http.post("/api/v1/session", json={"code": f"{user}.1"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def _face_session(sender: Sender, token: str, person: tuple[str, str]) -> str:
    """A face session for ``person`` (the example's body is 王伟's, sent verbatim once)."""
    key = ("backend", "post", "/api/v1/identity/face-verification", 0)
    if (EXAMPLES[key]["name"], EXAMPLES[key]["id_number"]) == person:
        response = await sender.send(key, headers=bearer(token))
    else:
        response = await sender.http.post(
            key[2],
            json={"name": person[0], "id_number": person[1], "encrypted": False},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
    return str(response.json()["verify_id"])


def _encrypted(public: bytes, name: str, id_number: str) -> dict[str, str]:
    return {
        "name": sm2_encrypt(public, name.encode()).hex(),
        "id_number": sm2_encrypt(public, id_number.encode()).hex(),
    }


async def test_every_request_example_succeeds(client, rt, holder):
    sender = Sender(client)
    caller = await authority(client, rt)
    await committing(rt.keys.init)(["210000"])

    # The registry: the example permit verbatim, and 王伟's three driver certificates.
    feed = ("backend", "post", "/authority/v1/licence-versions", 0)
    body = sender.body(feed)
    response = await caller.post(feed[2], body)
    assert response.status_code == 201, response.text
    refs = []
    # The second has no registry photo: its claim uploads one.
    for kind, extra in (
        ("qualification", {"birth_date": "1990-03-07"}),
        ("ridehail_driver", {"photo": ""}),
        ("taxi_driver", {}),
    ):
        qual = version_body(kind, seed=1, name=NAME, certificate_number=ID_NUMBER, sex="M", **extra)
        response = await caller.post(feed[2], qual)
        assert response.status_code == 201, response.text
        refs.append(response.json()["ref"])

    # 王伟 signs in and binds (development provider, the phone-code example).
    session = await sender.send(("backend", "post", "/api/v1/session", 0))
    token = session.json()["token"]
    await sender.send(("backend", "post", "/api/v1/identity", 0), headers=bearer(token))

    # Claims: one without a photo, one with an uploaded photo (reviewed, then rejected),
    # then the bulk form.
    await sender.send(
        ("backend", "post", "/api/v1/licences/{ref}/claim", 0),
        f"/api/v1/licences/{refs[0]}/claim",
        bearer(token),
    )
    await sender.send(
        ("backend", "post", "/api/v1/licences/{ref}/claim", 1),
        f"/api/v1/licences/{refs[1]}/claim",
        bearer(token),
        photo=base64.b64encode(jpeg()).decode(),
    )
    await sender.send(
        ("backend", "post", "/api/v1/licences/claims", 0), headers=bearer(token), refs=refs[1:]
    )
    pending = await caller.get("/authority/v1/claims")
    assert pending.status_code == 200, pending.text
    claim_id = pending.json()["items"][0]["id"]
    reject = ("backend", "post", "/authority/v1/claims/{claim_id}/reject", 0)
    path = f"/authority/v1/claims/{claim_id}/reject"
    response = await caller.post(path, sender.body(reject))
    assert response.status_code == 200, response.text

    # Activation on the example device, then the example enterprise and agent.
    activation = ("backend", "post", "/api/v1/licences/{ref}/activation", 0)
    device = EXAMPLES[activation]["device_id"]
    await sender.send(activation, f"/api/v1/licences/{refs[0]}/activation", bearer(token, device))
    await sender.send(("backend", "post", "/api/v1/enterprises", 0), headers=bearer(token))

    # The officer of the example signs in and verifies a fresh QR of the licence.
    login = ("verifier", "post", "/verifier/v1/session", 0)
    officer = EXAMPLES[login]
    async with unit_of_work() as uow:
        await rt.officers.add(
            uow,
            badge=officer["badge"],
            name="执法员甲",
            division="210100",
            role="inspector",
            password=officer["password"],
            device_id=officer["device_id"],
            now=rt.clock.now(),
        )
    signed_in = await sender.send(login)
    officer_headers = {
        "Authorization": f"Bearer {signed_in.json()['token']}",
        "X-Device-Id": officer["device_id"],
    }
    shown = await client.post(
        f"/api/v1/licences/{refs[0]}/presentations", headers=bearer(token, device)
    )
    assert shown.status_code == 201, shown.text
    await sender.send(
        ("verifier", "post", "/verifier/v1/verifications", 0),
        headers=officer_headers,
        qr=shown.json()["qr"],
    )

    # Encrypted fields through WeChat face verification: the agent-to-be binds, and
    # another WeChat user takes 王伟's identity over (rebind).
    key = await client.get("/api/v1/identity/transport-key")
    public = bytes.fromhex(key.json()["public_key"])
    accounts = rt.accounts
    previous, accounts.identity = accounts.identity, accounts.strong
    try:
        face = await _sign_in(client, "face")
        await sender.send(
            ("backend", "post", "/api/v1/identity", 1),
            headers=bearer(face),
            verify_id=await _face_session(sender, face, AGENT),
            **_encrypted(public, *AGENT),
        )
    finally:
        accounts.identity = previous
    # 李娜, now a known user, becomes the enterprise's agent.
    uscc = EXAMPLES["backend", "post", "/api/v1/enterprises", 0]["uscc"]
    await sender.send(
        ("backend", "post", "/api/v1/enterprises/{uscc}/agents", 0),
        f"/api/v1/enterprises/{uscc}/agents",
        bearer(token),
    )
    previous, accounts.identity = accounts.identity, accounts.strong
    try:
        third = await _sign_in(client, "third")
        await sender.send(
            ("backend", "post", "/api/v1/identity/rebind", 0),
            headers=bearer(third),
            verify_id=await _face_session(sender, third, (NAME, ID_NUMBER)),
            **_encrypted(public, NAME, ID_NUMBER),
        )
    finally:
        accounts.identity = previous

    reset = ("backend", "post", "/authority/v1/licences/{ref}/reactivation", 0)
    response = await caller.post(
        f"/authority/v1/licences/{refs[0]}/reactivation", sender.body(reset)
    )
    assert response.status_code == 200, response.text

    assert sender.sent == set(EXAMPLES), set(EXAMPLES) - sender.sent


@pytest.mark.parametrize("key", sorted(RUNTIME))
def test_runtime_fields_name_real_examples(key):
    assert set(EXAMPLES[key]) >= RUNTIME[key]


async def test_check_character_problems_name_the_field_and_say_why(client, rt):
    caller = await authority(client, rt)
    body = copy.deepcopy(EXAMPLES["backend", "post", "/authority/v1/licence-versions", 0])
    body["issuer"]["uscc"] = "11210000MB0000000E"  # check character off
    body["face"]["uscc"] = "91210102MA0000000X"  # organisation-code check off
    response = await caller.post("/authority/v1/licence-versions", body)
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["issuer.uscc"]["rule"] == "uscc.check_digit"
    assert errors["face.uscc"]["rule"] == "uscc.organisation_code"
    for entry in errors.values():
        assert entry["message"]
