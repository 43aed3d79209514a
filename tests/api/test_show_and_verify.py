"""The whole journey of DESIGN §6–7 over HTTP: a holder activates and shows a licence,
officers verify it online and offline, the holder sees who verified it."""

from __future__ import annotations

import io

import time_machine
import zxingcpp
from PIL import Image

from tests.factories import committing
from tests.holder_helpers import DEVICE, bearer, driver_body, identity_of, issue, sign_in
from tests.verification.conftest import add_officer
from wallet.presentation.render import qr_version
from wallet.totp import offline_code, verify_offline_code
from wallet.verification.publication import STATUS_STAMP_TTL

VERIFY = "/verifier/v1/verifications"


async def _active_driver(client, rt):
    body = driver_body(77, photo=True)
    [ref] = await issue(rt, [body])
    token = await sign_in(client, "zhao")
    assert (
        await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    ).status_code == 200
    assert (
        await client.post(f"/api/v1/licences/{ref}/claim", headers=bearer(token))
    ).status_code == 201
    activated = await client.post(
        f"/api/v1/licences/{ref}/activation",
        json={"device_id": DEVICE},
        headers=bearer(token, DEVICE),
    )
    assert activated.status_code == 201, activated.text
    return ref, token, activated.json()


async def test_show_scan_and_see_who_verified(client, rt, holder):
    ref, token, activation = await _active_driver(client, rt)
    officer = await add_officer(client, rt, "21010007")

    shown = await client.post(
        f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE)
    )
    assert shown.status_code == 201, shown.text
    qr = shown.json()["qr"]
    assert shown.json()["refresh_in"] == rt.settings.qr_lifetime - 10
    assert qr_version(qr) <= 13

    png = await client.post(
        f"/api/v1/licences/{ref}/presentations?format=png", headers=bearer(token, DEVICE)
    )
    assert png.headers["content-type"] == "image/png"
    [decoded] = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    svg = await client.post(
        f"/api/v1/licences/{ref}/presentations?format=svg", headers=bearer(token, DEVICE)
    )
    assert svg.content.startswith(b"<svg")

    for scanned in (qr, decoded.text):
        verdict = await client.post(VERIFY, json={"qr": scanned}, headers=officer.headers)
        assert verdict.json()["verdict"] == "valid"
        assert verdict.json()["licence"]["ref"] == ref

    code = offline_code(activation["totp"]["seed"], rt.clock.timestamp())
    offline = f"{activation['offline_credential']}~{code}"
    assert qr_version(offline) <= 15
    verdict = await client.post(VERIFY, json={"qr": offline}, headers=officer.headers)
    assert verdict.json()["verdict"] == "valid"
    wrong = offline[:-8] + ("00000000" if offline[-8:] != "00000000" else "11111111")
    verdict = await client.post(VERIFY, json={"qr": wrong}, headers=officer.headers)
    assert verdict.json()["verdict"] == "code_mismatch"

    seen = await client.get(f"/api/v1/licences/{ref}/verifications", headers=bearer(token))
    assert seen.status_code == 200
    items = seen.json()["items"]
    assert len(items) == 4
    assert {i["officer_badge"] for i in items} == {"21010007"}
    assert {i["officer_division"] for i in items} == {"210100"}
    page = await client.get(f"/api/v1/licences/{ref}/verifications?limit=3", headers=bearer(token))
    assert len(page.json()["items"]) == 3 and page.json()["next_cursor"]
    rest = await client.get(
        f"/api/v1/licences/{ref}/verifications?limit=3&cursor={page.json()['next_cursor']}",
        headers=bearer(token),
    )
    assert len(rest.json()["items"]) == 1


async def test_an_offline_code_in_other_digits_is_no_new_code(client, rt, holder):
    """Officer B resending officer A's code in other digits is turned away, not let in."""
    _ref, _token, activation = await _active_driver(client, rt)
    first = await add_officer(client, rt, "21010011", device="ENF-DEVICE-0011")
    second = await add_officer(client, rt, "21010012", device="ENF-DEVICE-0012")

    async def verdict(qr, officer):
        response = await client.post(VERIFY, json={"qr": qr}, headers=officer.headers)
        assert response.status_code == 200, response.text
        return response.json()["verdict"]

    credential = activation["offline_credential"]
    code = offline_code(activation["totp"]["seed"], rt.clock.timestamp())
    assert await verdict(f"{credential}~{code}", first) == "valid"
    for digits in ("０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "𝟶𝟷𝟸𝟹𝟺𝟻𝟼𝟽𝟾𝟿"):
        respelt = code.translate(str.maketrans("0123456789", digits))
        assert await verdict(f"{credential}~{respelt}", second) == "malformed", digits
        # pyotp compares after NFKC: the TOTP check itself takes only ASCII digits too.
        assert not verify_offline_code(activation["totp"]["seed"], respelt, rt.clock.timestamp())
    assert await verdict(f"{credential}~{code}", second) == "replayed"
    wrong = "00000000" if code != "00000000" else "11111111"
    assert await verdict(f"{credential}~{wrong}", second) == "code_mismatch"


async def test_presentation_refusals(client, rt, holder):
    ref, token, _ = await _active_driver(client, rt)
    url = f"/api/v1/licences/{ref}/presentations"
    assert (await client.post(url)).status_code == 401
    other_device = await client.post(url, headers=bearer(token, "device_ffffffffffffffff"))
    assert other_device.status_code == 403
    assert (
        await client.post(url + "?lifetime=5", headers=bearer(token, DEVICE))
    ).status_code == 422
    assert (
        await client.post(url + "?format=gif", headers=bearer(token, DEVICE))
    ).status_code == 422
    stranger = await sign_in(client, "stranger")
    assert (await client.post(url, headers=bearer(stranger, DEVICE))).status_code == 404
    history = await client.get(f"/api/v1/licences/{ref}/verifications", headers=bearer(stranger))
    assert history.status_code == 404
    long = await client.post(url + "?lifetime=300", headers=bearer(token, DEVICE))
    assert long.status_code == 201 and qr_version(long.json()["qr"]) <= 13


async def test_a_suspended_licence_cannot_be_shown(client, rt, holder):
    from tests.factories import authority

    ref, token, _ = await _active_driver(client, rt)
    caller = await authority(client, rt)
    await caller.post(f"/authority/v1/licences/{ref}/status", {"action": "suspend", "reason": "x"})
    shown = await client.post(
        f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE)
    )
    assert shown.status_code == 409


async def test_offline_function_agrees_with_the_endpoint_on_credentials(client, rt, holder):
    from tests.factories import authority
    from wallet.keys.trust_list import verify_trust_list
    from wallet.verification.offline import verify_offline
    from wallet.verification.status_list import verify_status_list

    ref, _token, activation = await _active_driver(client, rt)
    caller = await authority(client, rt)
    root = next(k for k in await committing(rt.keys.list_keys)() if k.use == "root")

    looks: list[int] = []

    async def both(qr, officer):
        online = await client.post(VERIFY, json={"qr": qr}, headers=officer.headers)
        trust = verify_trust_list(
            (await client.get("/verifier/v1/trust-list")).text,
            bytes.fromhex(root.public_key),
            rt.sm2,
            rt.clock.timestamp(),
        )
        # The list shows a change once the verifier reads the province's stamp again:
        # each look is a stamp's lifetime after the one before.
        looks.append(STATUS_STAMP_TTL + 1)
        later = rt.clock.timestamp() + sum(looks)
        with time_machine.travel(later, tick=False):
            listed = (await client.get("/verifier/v1/status-lists/210000")).text
        status = verify_status_list(listed, trust, rt.sm2)
        offline = verify_offline(trust, status, qr, later, rt.sm2)
        return online.json()["verdict"], offline.verdict.value

    def shown():
        code = offline_code(activation["totp"]["seed"], rt.clock.timestamp())
        return f"{activation['offline_credential']}~{code}"

    officer = await add_officer(client, rt, "21010008")
    assert await both(shown(), officer) == ("valid", "valid")
    for action, expected in [
        ("suspend", "suspended"),
        ("reinstate", "valid"),
        ("revoke", "revoked"),
    ]:
        reply = await caller.post(
            f"/authority/v1/licences/{ref}/status", {"action": action, "reason": "x"}
        )
        assert reply.status_code == 200
        assert await both(shown(), officer) == (expected, expected)
    other = await add_officer(client, rt, "21010009", device="ENF-DEVICE-0009")
    qr = shown()
    assert await both(qr, officer) == ("revoked", "revoked")
    assert await both(qr, other) == ("replayed", "revoked")  # replay is online-only knowledge


async def test_officer_fetches_the_approved_photo_after_a_scan(client, rt, holder):
    import base64

    from tests.factories import authority
    from tests.holder_helpers import jpeg

    body = driver_body(88)  # no registry photo: the holder uploads one
    [ref] = await issue(rt, [body])
    token = await sign_in(client, "qian")
    assert (
        await client.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    ).status_code == 200
    photo = base64.b64encode(jpeg(480, 640)).decode()
    claimed = await client.post(
        f"/api/v1/licences/{ref}/claim", json={"photo": photo}, headers=bearer(token)
    )
    assert claimed.json()["status"] == "pending_review"
    reviewer = await authority(client, rt)
    [pending] = (await reviewer.get("/authority/v1/claims")).json()["items"]
    assert (
        await reviewer.post(f"/authority/v1/claims/{pending['id']}/approve", None)
    ).status_code == 200
    assert (
        await client.post(
            f"/api/v1/licences/{ref}/activation",
            json={"device_id": DEVICE},
            headers=bearer(token, DEVICE),
        )
    ).status_code == 201
    qr = (
        await client.post(f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE))
    ).json()["qr"]

    officer = await add_officer(client, rt, "21010031")
    bystander = await add_officer(client, rt, "21010032", device="ENF-DEVICE-0032")
    url = f"/verifier/v1/licences/{ref}/photo"
    assert (await client.get(url, headers=officer.headers)).status_code == 403  # not scanned yet
    seen = (await client.post(VERIFY, json={"qr": qr}, headers=officer.headers)).json()
    assert seen["verdict"] == "valid" and seen["licence"]["photo_url"] == url
    image = await client.get(url, headers=officer.headers)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    assert (await client.get(url, headers=bystander.headers)).status_code == 403
    assert (await client.get(url)).status_code == 401
