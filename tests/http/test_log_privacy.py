"""The log of a whole journey: JSON lines, request ids, and no personal data or secret.

A driver signs in, binds the real name with a phone number (after a refused
attempt), claims the licence with a photo, is approved, activates, shows a
QR; an officer verifies it and a supervisor looks it up. Everything any
logger writes meanwhile, at every level, is captured and searched for the
names, ID numbers (any spelling), phone number, photo, secrets and openid used.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.factories import authority
from tests.holder_helpers import DEVICE, bearer, driver_body, identity_of, issue, jpeg
from tests.verification.conftest import add_officer

PHONE = "13712345678"
OFFICER_NAME = "执法员甲"  # tests.verification.conftest.add_officer's


@dataclass
class Capture:
    """Every record (formatted as the app's handler formats it) and where it was made."""

    out: io.StringIO
    lines: list[tuple[str, asyncio.Task[Any] | None, str | None]] = field(default_factory=list)
    in_flight: dict[str, Any] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)


class _Recorder(logging.Handler):
    def __init__(self, capture: Capture, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.capture = capture
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # a thread without an event loop
            task = None
        flight = self.capture.in_flight
        expected = flight.get("rid") if task is not None and task is flight.get("task") else None
        self.capture.lines.append((self.format(record), task, expected))


@pytest.fixture
def capture(served) -> Iterator[Capture]:
    """Everything logged through the root logger, at every level, while the test runs."""
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if getattr(h, "_rtel", False)]
    assert isinstance(handler, logging.StreamHandler) and handler.formatter is not None
    result = Capture(io.StringIO())
    recorder = _Recorder(result, handler.formatter)
    previous_stream, previous_level = handler.setStream(result.out), root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield result
    finally:
        root.setLevel(previous_level)
        root.removeHandler(recorder)
        handler.setStream(previous_stream)


def _client(served, capture: Capture) -> httpx.AsyncClient:
    """A client that names each request (``X-Request-Id``) and marks it in flight."""
    counter = iter(range(1, 10_000))

    async def started(request: httpx.Request) -> None:
        rid = f"journey{next(counter):06d}"
        request.headers["X-Request-Id"] = rid
        capture.sent.append(rid)
        capture.in_flight.update(rid=rid, task=asyncio.current_task())

    async def ended(response: httpx.Response) -> None:
        assert response.headers["x-request-id"] == capture.in_flight["rid"]
        capture.in_flight.clear()

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served),
        base_url="http://test",
        event_hooks={"request": [started], "response": [ended]},
    )


def _spelled_anyhow(value: str) -> re.Pattern[str]:
    """``value`` with any separators between its characters, in either case."""
    return re.compile("[^0-9A-Za-z]{0,3}".join(map(re.escape, value)), re.IGNORECASE)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    else:
        yield str(node)


async def test_a_journey_logs_json_lines_with_request_ids_and_no_personal_data(
    served, rt, holder, standin, capture
):
    body = driver_body(131)  # no registry photo: the claim carries one
    name, id_number = body["face"]["name"], body["face"]["certificate_number"]
    photo = jpeg(600, 800)
    secrets: list[str] = []
    async with _client(served, capture) as http:
        [ref] = await issue(rt, [body])
        session = await http.post("/api/v1/session", json={"code": "driver-sun.1"})
        token = session.json()["token"]
        secrets.append(token)
        wrong = {"name": name, "id_number": id_number[:-4] + "0000"}
        refused = await http.post("/api/v1/identity", json=wrong, headers=bearer(token))
        assert refused.status_code in (403, 404, 409, 422), refused.text
        bound = await http.post(
            "/api/v1/identity",
            json=identity_of(body) | {"phone_code": f"phone-{PHONE}"},
            headers=bearer(token, DEVICE),
        )
        assert bound.status_code == 200, bound.text
        claimed = await http.post(
            f"/api/v1/licences/{ref}/claim",
            json={"photo": base64.b64encode(photo).decode()},
            headers=bearer(token),
        )
        assert claimed.status_code == 201, claimed.text
        reviewer = await authority(http, rt)
        [pending] = (await reviewer.get("/authority/v1/claims")).json()["items"]
        assert (await reviewer.get(pending["photo_url"])).content.startswith(b"\xff\xd8")
        approved = await reviewer.post(f"/authority/v1/claims/{pending['id']}/approve", None)
        assert approved.status_code == 200, approved.text
        activated = await http.post(
            f"/api/v1/licences/{ref}/activation",
            json={"device_id": DEVICE},
            headers=bearer(token, DEVICE),
        )
        assert activated.status_code == 201, activated.text
        secrets.append(activated.json()["totp"]["seed"])
        shown = await http.post(
            f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE)
        )
        assert shown.status_code == 201, shown.text
        officer = await add_officer(http, rt, "21010031")
        boss = await add_officer(http, rt, "21010032", role="supervisor", device="ENF-DEVICE-0032")
        secrets += [officer.token, boss.token]
        verdict = await http.post(
            "/verifier/v1/verifications", json={"qr": shown.json()["qr"]}, headers=officer.headers
        )
        assert verdict.json()["verdict"] == "valid", verdict.text
        looked_up = await http.post(
            "/verifier/v1/lookups", json={"id_number": id_number}, headers=boss.headers
        )
        assert name in looked_up.text, looked_up.text
        seen = await http.get(f"/api/v1/licences/{ref}/verifications", headers=bearer(token))
        assert seen.status_code == 200
        # Something every logger may see: a request that fails validation with the ID number.
        bad = await http.post("/api/v1/identity", json={"name": id_number}, headers=bearer(token))
        assert bad.status_code == 422
    await rt.verifier.log.settle()
    secrets.append(standin.state.openid("driver-sun"))
    wechat_token = await rt.cache.get(f"rtel:wechat:access_token:{rt.settings.wechat_app_id}")
    if wechat_token:
        secrets.append(wechat_token.decode())

    written = capture.out.getvalue()
    recorded = [line for line, _, _ in capture.lines]
    assert written.splitlines() == recorded  # the recorder saw what the app's handler wrote
    entries = [json.loads(line) for line in recorded]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)

    for (_, _, expected), entry in zip(capture.lines, entries, strict=True):
        if expected is not None:  # logged on behalf of a request in flight
            assert entry.get("request_id") == expected, entry
    access = [e for e in entries if e["logger"] == "httpkit.access"]
    assert [e["request_id"] for e in access] == capture.sent  # one line per request
    assert {e["route"] for e in access} >= {
        "/api/v1/identity",
        "/api/v1/licences/{ref}/claim",
        "/api/v1/licences/{ref}/activation",
        "/api/v1/licences/{ref}/presentations",
        "/verifier/v1/verifications",
        "/verifier/v1/lookups",
    }
    assert all(isinstance(e["status"], int) and e["duration_ms"] >= 0 for e in access)
    assert ref not in written  # routes are templates: not even the licence ref

    # What is searched: the text written, and every decoded JSON string, NFKC-folded
    # (full-width digits are digits).
    text = "\n".join([written, *(s for e in entries for s in _strings(e))])
    text = unicodedata.normalize("NFKC", text)
    personal = {
        "name": name,
        "officer name": OFFICER_NAME,
        "ID number": id_number,
        "wrong ID number": wrong["id_number"],
        "phone": PHONE,
    }
    found = {what for what, value in personal.items() if _spelled_anyhow(value).search(text)}
    encoded = base64.b64encode(photo).decode()
    fragments = [encoded[i : i + 40] for i in range(0, len(encoded) - 40, len(encoded) // 7)]
    fragments += [photo[3000:3032].hex(), repr(photo[3000:3016])[2:-1]]
    if any(fragment in text for fragment in fragments):
        found.add("photo")
    found |= {"a secret" for value in secrets if value in text}
    assert not found, found
