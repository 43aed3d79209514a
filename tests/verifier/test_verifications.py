"""Every verdict, caused over HTTP; the offline function agrees wherever it can decide."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta

import orjson
import time_machine
from redis.asyncio import Redis

from tests.factories import version_body
from tests.verification.conftest import add_officer
from wallet.crypto import sm2_backend
from wallet.keys.repository import KeyRepository
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.presentation.render import qr_version, render_png
from wallet.uow import read_only
from wallet.verification.models import VerificationRecord
from wallet.verification.offline import verify_offline
from wallet.verification.publication import STATUS_STAMP_TTL, Publication
from wallet.verification.repository import VerificationRepository
from wallet.verification.status_list import verify_status_list
from wallet.verification.verdict import CLOCK_SKEW

VERIFY = "/verifier/v1/verifications"


async def _verify(scene, qr, officer=None):
    officer = officer or scene.officer
    response = await scene.caller.http.post(VERIFY, json={"qr": qr}, headers=officer.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _offline(scene, qr):
    return verify_offline(
        await scene.trust(), None, qr, scene.rt.clock.timestamp(), sm2_backend("gmssl")
    ).verdict.value


def _resign_payload(qr: str, **changes) -> str:
    header, payload, signature = qr.split(".")
    data = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    data.update(changes)
    tampered = base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")
    return f"{header}.{tampered}.{signature}"


async def test_valid_qr_decoded_from_png_shows_the_face(scene):
    import io

    import zxingcpp
    from PIL import Image

    qr = await scene.qr()
    assert qr_version(qr) <= 13
    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(render_png(qr))), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [d.text for d in decoded] == [qr]
    body = await _verify(scene, decoded[0].text)
    assert body["verdict"] == "valid"
    assert body["status_checked_at"] is not None
    face = body["licence"]["face"]
    assert face["name"] and "*" in face["certificate_number"]  # inspectors see it masked
    assert body["licence"]["kind"] == "qualification"
    assert await VerificationRecord.filter(verdict="valid").count() == 1


async def test_supervisor_sees_the_clear_id_number(scene, client, rt):
    boss = await add_officer(client, rt, "21010099", role="supervisor", device="ENF-DEVICE-0099")
    body = await _verify(scene, await scene.qr(), boss)
    assert body["verdict"] == "valid", body
    assert "*" not in body["licence"]["face"]["certificate_number"]


async def test_tampered_payload_is_bad_signature(scene):
    qr = _resign_payload(await scene.qr(), ver=99)
    assert (await _verify(scene, qr))["verdict"] == "bad_signature"
    assert await _offline(scene, qr) == "bad_signature"


async def test_tampered_signature_is_bad_signature(scene):
    qr = await scene.qr()
    head, body, sig = qr.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[10] ^= 1
    qr = f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"
    assert (await _verify(scene, qr))["verdict"] == "bad_signature"
    assert await _offline(scene, qr) == "bad_signature"


async def test_unknown_kid(scene):
    qr = await scene.qr()
    head = (
        base64.urlsafe_b64encode(b'{"alg":"SM2","kid":"pres-00000000","typ":"rtel-qr"}')
        .decode()
        .rstrip("=")
    )
    qr = head + qr[qr.index(".") :]
    assert (await _verify(scene, qr))["verdict"] == "unknown_key"
    assert await _offline(scene, qr) == "unknown_key"


async def test_expired_and_not_yet_valid(scene):
    now = scene.rt.clock.timestamp()
    old = await scene.qr(lifetime=60)
    future = await scene.qr(lifetime=60, at=now + 600)
    assert (await _verify(scene, future))["verdict"] == "not_yet_valid"
    assert await _offline(scene, future) == "not_yet_valid"
    with time_machine.travel(now + 600, tick=False):
        assert (await _verify(scene, old))["verdict"] == "qr_expired"
        assert await _offline(scene, old) == "qr_expired"
    assert (await _verify(scene, old))["verdict"] == "valid"  # inside its window, it was fine


async def test_revoked_suspended_cancelled_propagate_at_once(scene, client, rt):
    qr = await scene.qr()
    assert (await _verify(scene, qr))["verdict"] == "valid"
    await scene.status("suspend")
    assert (await _verify(scene, qr))["verdict"] == "suspended"
    await scene.status("reinstate")
    await scene.status("revoke")
    assert (await _verify(scene, qr))["verdict"] == "revoked"


async def test_cancelled(scene):
    await scene.status("cancel")
    assert (await _verify(scene, await scene.qr()))["verdict"] == "cancelled"


async def test_new_version_supersedes_older_codes(scene):
    qr = await scene.qr()
    body = version_body("qualification", seed=11, version=2)
    body["change_type"] = "change"
    assert (await scene.caller.post("/authority/v1/licence-versions", body)).status_code == 201
    assert (await _verify(scene, qr))["verdict"] == "superseded"


async def test_second_officer_gets_replayed(scene, client, rt):
    qr = await scene.qr()
    assert (await _verify(scene, qr))["verdict"] == "valid"
    assert (await _verify(scene, qr))["verdict"] == "valid"  # the same officer may rescan
    other = await add_officer(client, rt, "21010002", device="ENF-DEVICE-0002")
    assert (await _verify(scene, qr, other))["verdict"] == "replayed"


async def test_garbage_is_malformed(scene):
    for garbage in ["hello", "a.b.c", "~12345678", "eyJ9.eyJ9.AAAA~1234"]:
        response = await scene.caller.http.post(
            VERIFY, json={"qr": garbage}, headers=scene.officer.headers
        )
        assert response.status_code == 200 and response.json()["verdict"] == "malformed", garbage
        assert await _offline(scene, garbage) == "malformed"
    # Empty or oversized: refused by the request schema, and malformed offline.
    for garbage in ["", "x" * 5000]:
        response = await scene.caller.http.post(
            VERIFY, json={"qr": garbage}, headers=scene.officer.headers
        )
        assert response.status_code == 422 and response.json()["code"] == "validation_failed"
        assert await _offline(scene, garbage) == "malformed"


async def test_the_time_window_is_exact_at_now_plus_and_minus_skew(scene):
    now = scene.rt.clock.timestamp()
    early = await scene.qr(lifetime=60, at=now + CLOCK_SKEW)
    too_early = await scene.qr(lifetime=60, at=now + CLOCK_SKEW + 1)
    # The clock stands still: on a busy machine a second may pass between here and the check.
    with time_machine.travel(now, tick=False):
        assert (await _verify(scene, too_early))["verdict"] == "not_yet_valid"
        assert await _offline(scene, too_early) == "not_yet_valid"
        assert (await _verify(scene, early))["verdict"] == "valid"
    late = await scene.qr(lifetime=60, at=now)  # not the wall clock: seconds may have passed
    with time_machine.travel(now + 60 + CLOCK_SKEW, tick=False):
        assert (await _verify(scene, late))["verdict"] == "valid"
    with time_machine.travel(now + 60 + CLOCK_SKEW + 1, tick=False):
        assert (await _verify(scene, late))["verdict"] == "qr_expired"
        assert await _offline(scene, late) == "qr_expired"


async def test_redis_down_database_up_still_reads_status(scene, monkeypatch):
    qr = await scene.qr()
    healthy = scene.rt.cache
    scene.rt.cache = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    scene.rt.verifier.cache = scene.rt.cache
    monkeypatch.setattr(scene.rt.verifier.probe, "cache", scene.rt.cache)
    try:
        body = await _verify(scene, qr)
    finally:
        await scene.rt.cache.aclose()
        scene.rt.cache = scene.rt.verifier.cache = healthy
    assert body["verdict"] == "valid"


class _LicencesDown(LicenceRepository):
    """The licence tables, with every read by reference refused (the database went down)."""

    async def by_ref(self, uow, ref, *, lock=False):
        raise ConnectionRefusedError("database down")


class _RecordsDown(VerificationRepository):
    """The verification log, with the replay query refused (the database went down)."""

    async def seen_elsewhere(self, uow, token_id, officer_id, device_id, since):
        raise ConnectionRefusedError("database down")


async def test_both_down_is_status_unavailable(scene, monkeypatch):
    qr = await scene.qr()
    healthy = scene.rt.cache
    scene.rt.cache = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    scene.rt.verifier.cache = scene.rt.cache
    monkeypatch.setattr(scene.rt.verifier.probe, "cache", scene.rt.cache)
    monkeypatch.setattr(scene.rt.verifier, "licences", _LicencesDown())
    monkeypatch.setattr(scene.rt.verifier, "records", _RecordsDown())
    try:
        body = await _verify(scene, qr)
    finally:
        await scene.rt.cache.aclose()
        scene.rt.cache = scene.rt.verifier.cache = healthy
    assert body["verdict"] == "status_unavailable"


async def test_offline_credential_with_status_list(scene, rt):
    credential = await scene.credential()
    from wallet.totp import offline_code

    qr = f"{credential}~{offline_code('A' * 32, rt.clock.timestamp())}"
    assert qr_version(qr) <= 15
    trust = await scene.trust()
    lst_token = (await scene.caller.http.get("/verifier/v1/status-lists/210000")).text
    status_list = verify_status_list(lst_token, trust, rt.sm2)
    result = verify_offline(trust, status_list, qr, rt.clock.timestamp(), rt.sm2)
    assert result.verdict.value == "valid"
    assert set(result.unchecked) == {"totp", "replay", "version", "claims"}
    await scene.status("suspend")
    later = rt.clock.timestamp() + STATUS_STAMP_TTL + 1  # when the list shows the change
    with time_machine.travel(later, tick=False):
        lst_token = (await scene.caller.http.get("/verifier/v1/status-lists/210000")).text
        status_list = verify_status_list(lst_token, trust, rt.sm2)
        assert verify_offline(trust, status_list, qr, later, rt.sm2).verdict.value == "suspended"


async def test_online_qr_offline_without_status_is_not_valid(scene):
    assert await _offline(scene, await scene.qr()) == "status_unavailable"


async def test_verification_needs_a_signed_in_officer_on_its_device(scene):
    qr = await scene.qr()
    http = scene.caller.http
    assert (await http.post(VERIFY, json={"qr": qr})).status_code == 401
    wrong_device = dict(scene.officer.headers, **{"X-Device-Id": "ENF-DEVICE-9999"})
    assert (await http.post(VERIFY, json={"qr": qr}, headers=wrong_device)).status_code == 401
    assert (await http.post(VERIFY, json={}, headers=scene.officer.headers)).status_code == 422


async def test_lookups(scene, client, rt):
    body = version_body("qualification", seed=11)
    http = scene.caller.http
    boss = await add_officer(client, rt, "21010099", role="supervisor", device="ENF-DEVICE-0099")
    by_number = await http.post(
        "/verifier/v1/lookups",
        json={"number": body["face"]["certificate_number"]},
        headers=boss.headers,
    )
    assert [r["verdict"] for r in by_number.json()["results"]] == ["valid"]
    by_id = await http.post(
        "/verifier/v1/lookups",
        json={"id_number": body["face"]["certificate_number"]},
        headers=scene.officer.headers,
    )
    assert by_id.status_code == 403
    two = await http.post(
        "/verifier/v1/lookups",
        json={"number": "1", "plate_number": "辽A12345"},
        headers=scene.officer.headers,
    )
    assert two.status_code == 422
    assert await VerificationRecord.filter(mode="lookup").count() == 1


async def test_trust_list_is_signed_by_root(scene):
    trust = await scene.trust()
    uses = sorted({k.use.value for k in trust.keys.values()})
    assert uses == ["copy", "presentation", "root", "seal"]


async def test_scans_are_rate_limited_per_officer(scene):
    qr = await scene.qr()
    saved, scene.rt.verifier.scan_limit = scene.rt.verifier.scan_limit, (3, 60)
    try:
        codes = [
            (
                await scene.caller.http.post(VERIFY, json={"qr": qr}, headers=scene.officer.headers)
            ).status_code
            for _ in range(4)
        ]
    finally:
        scene.rt.verifier.scan_limit = saved
    assert codes == [200, 200, 200, 429]


class _VersionsDown(LicenceRepository):
    """The licence tables, with every read of a version refused (the database went down)."""

    async def version(self, uow, licence_id, version):
        raise ConnectionRefusedError("database down")


async def test_database_down_during_the_face_read_is_status_unavailable(scene, monkeypatch):
    qr = await scene.qr()
    scene.rt.verifier._faces.clear()
    monkeypatch.setattr(scene.rt.verifier, "licences", _VersionsDown())
    body = await _verify(scene, qr)
    assert body["verdict"] == "status_unavailable" and body["licence"]["face"] == {}


async def test_a_stale_trust_list_is_not_used_forever(scene, monkeypatch):
    import time

    qr = await scene.qr()
    assert (await _verify(scene, qr))["verdict"] == "valid"

    class DatabaseDown(KeyRepository):
        async def all(self, uow):
            raise ConnectionRefusedError("database down")

    monkeypatch.setattr(scene.rt.keys, "repository", DatabaseDown())
    trust = scene.rt.verifier.trust_list
    trust._loaded = trust._tried = time.monotonic() - 60  # due, still young
    assert (await _verify(scene, qr))["verdict"] == "valid"
    trust._loaded = trust._tried = time.monotonic() - 3600  # failing an hour
    assert (await _verify(scene, qr))["verdict"] == "status_unavailable"


async def test_status_list_bad_divisions(scene):
    http = scene.caller.http
    assert (await http.get("/verifier/v1/status-lists/999999")).status_code == 422
    assert (await http.get("/verifier/v1/status-lists/210100")).status_code == 422  # a city
    assert (await http.get("/verifier/v1/status-lists/abc")).status_code == 422
    missing = await http.get("/verifier/v1/status-lists/110000")  # no seal key for Beijing
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_a_licence_is_valid_through_its_registry_end_date_and_expired_after(
    scene, client, rt
):
    end = scene.licence.valid_until
    assert end is not None
    verdicts = []
    for day, badge in ((end, "21010011"), (end + timedelta(days=1), "21010012")):
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        with time_machine.travel(noon, tick=False):
            officer = await add_officer(client, rt, badge, device=f"ENF-DEVICE-{badge}")
            verdicts.append((await _verify(scene, await scene.qr(), officer))["verdict"])
    assert verdicts == ["valid", "expired"]


async def test_status_list_etag_holds_until_a_status_changes(scene):
    await scene.credential()  # an offline credential gives the licence its place in the list
    http = scene.caller.http
    url = "/verifier/v1/status-lists/210000"
    first = await http.get(url)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=60"
    tag = first.headers["etag"]
    again = await http.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert (await http.get(url)).text == first.text  # built once, the same signed list
    # Weak, listed or padded, the current tag matches; anything else gets the whole list.
    for asked in (f"W/{tag}", f'"old", {tag}', f"  {tag}  ", "*"):
        assert (await http.get(url, headers={"If-None-Match": asked})).status_code == 304
    for asked in (tag[:-2] + '"', '"' * 300, ",,,", tag.strip('"'), "W/", "*, *"):
        answer = await http.get(url, headers={"If-None-Match": asked})
        assert answer.status_code == 200 and answer.text == first.text, asked
    # Another worker or host signs its own token of the same list: the same ETag.
    other = Publication(scene.rt.keys, scene.rt.registry.licences, scene.rt.clock, scene.rt.sm2)
    async with read_only() as uow:
        theirs = await other.signed_status_list(uow, "210000")
    assert theirs.etag == tag and theirs.token != first.text
    await scene.status("suspend")
    # The stamp is read again after STATUS_STAMP_TTL seconds: the change shows then.
    now = scene.rt.clock.timestamp()
    with time_machine.travel(now + STATUS_STAMP_TTL + 1, tick=False):
        changed = await http.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    trust = await scene.trust()
    listed = verify_status_list(changed.text, trust, scene.rt.sm2)
    [idx] = await Licence.filter(ref=scene.licence.ref).values_list("status_idx", flat=True)
    assert listed.status_at(idx) == "suspended"
