"""The log: one JSON line per record whatever a request carries, the request id on the
records of a request, route templates instead of paths, and no rejected value in it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from httpkit.app import configure_logging
from httpkit.middleware import RequestLogMiddleware

ID_NUMBER = "210102199003071234"
REFUSAL = f"Length of '{ID_NUMBER}\nFORGED' 19 > 18"
FORGED = "2026-11-26 08:00:00,000 INFO httpkit.access GET /forged 200 0.1ms rid=0000000000000000"


@pytest.fixture
def log_output(served) -> Iterator[io.StringIO]:
    """What the process writes to its log (the handler the app's lifespan installed)."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_rtel", False)]
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    previous = handler.setStream(out)
    try:
        yield out
    finally:
        handler.setStream(previous)


@pytest.fixture
def text_format(served) -> Iterator[None]:
    """``WALLET_LOG_FORMAT=text`` for one test."""
    configure_logging(logging.getLevelName(logging.getLogger().level), "text")
    try:
        yield
    finally:
        configure_logging(logging.getLevelName(logging.getLogger().level), "json")


def _entries(out: io.StringIO) -> list[dict]:
    """Every line written, each parsed as the JSON object it must be."""
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_an_access_line_is_one_json_object_with_the_route_template(client, log_output):
    response = await client.get(
        "/api/v1/licences/LAAAAAAAAAAAAAAAA/verifications", headers={"X-Request-Id": "A1b2C3d4"}
    )
    assert response.status_code == 401
    [access] = [e for e in _entries(log_output) if e["logger"] == "httpkit.access"]
    assert access["route"] == "/api/v1/licences/{ref}/verifications"
    assert (access["method"], access["status"], access["request_id"]) == ("GET", 401, "A1b2C3d4")
    assert access["level"] == "INFO" and access["duration_ms"] >= 0
    assert access["time"].endswith("+00:00")
    assert "LAAAAAAAAAAAAAAAA" not in log_output.getvalue()


async def test_a_newline_in_the_path_cannot_forge_an_access_line(client, log_output):
    response = await client.get("/api/v1/licences/L%0a" + FORGED.replace(" ", "%20") + "/x")
    assert response.status_code == 404
    entries = _entries(log_output)  # each line parses: nothing was split
    access = [e for e in entries if e["logger"] == "httpkit.access"]
    assert len(access) == 1, entries
    assert access[0]["route"] == "unmatched"
    assert "/forged" not in log_output.getvalue()  # a path is never logged


async def test_a_newline_in_a_text_line_is_escaped(client, log_output, text_format):
    logging.getLogger("tests.logging").warning("value %s end", "a\n" + FORGED)
    lines = log_output.getvalue().splitlines()
    assert len(lines) == 1 and "value a\\n" + FORGED in lines[0]


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("char", ["\r", "\x1b", "\x85", "\u2028", "\x00", "\x7f"])
async def test_other_control_characters_are_escaped(client, log_output, char, fmt):
    if fmt == "text":
        configure_logging("INFO", "text")
    try:
        logging.getLogger("tests.logging").warning("value %s end", f"a{char}b")
    finally:
        configure_logging("INFO", "json")
    text = log_output.getvalue()
    assert char not in text
    assert len(text.splitlines()) == 1
    if fmt == "json":
        assert json.loads(text)["message"] == f"value a{char}b end"
    else:
        assert "value a\\" in text


def test_a_lone_surrogate_is_still_one_json_line(served, log_output):
    logging.getLogger("tests.logging").warning("value %s end", "a\udc80b")
    [entry] = _entries(log_output)
    assert entry["message"].startswith("value a") and entry["message"].endswith("b end")


async def test_records_logged_during_a_request_carry_its_id(log_output):
    async def noisy(request: Request) -> Response:
        logging.getLogger("wallet.somewhere").warning("inside the request")
        return Response(b"ok")

    app = Starlette(routes=[Route("/noisy", noisy)], middleware=[Middleware(RequestLogMiddleware)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/noisy", headers={"X-Request-Id": "Inside0001"})
    assert response.headers["x-request-id"] == "Inside0001"
    logging.getLogger("wallet.somewhere").warning("after the request")
    inside, access, after = _entries(log_output)
    assert inside["message"] == "inside the request" and inside["request_id"] == "Inside0001"
    assert access["route"] == "/noisy" and access["request_id"] == "Inside0001"
    assert "request_id" not in after


async def test_a_rejected_value_is_never_logged_nor_echoed(client, log_output):
    secret = "210102199003071234\nFORGED LINE"
    response = await client.post(
        "/verifier/v1/session", json={"badge": secret, "password": "x", "device_id": "d"}
    )
    assert response.status_code == 422
    assert "210102199003071234" not in response.text
    assert "210102199003071234" not in log_output.getvalue()


def test_an_exception_is_logged_as_its_type_and_frames_not_its_message(served, log_output):
    def refuse(value: str, message: str) -> None:
        try:
            raise KeyError(value)
        except KeyError as exc:
            raise ValueError(message) from exc

    try:
        refuse(ID_NUMBER, REFUSAL)
    except ValueError:
        logging.getLogger("tests.logging").exception("unhandled error")
    text = log_output.getvalue()
    assert "210102199003071234" not in text and "FORGED" not in text
    [entry] = _entries(log_output)
    assert entry["message"] == "unhandled error"
    assert "builtins.KeyError (message not logged)" in entry["exception"]
    assert "builtins.ValueError (message not logged)" in entry["exception"]
    assert "test_logging.py" in entry["exception"]  # the frames are there


@pytest.mark.parametrize(
    "incoming",
    [
        b"\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7",  # Latin-1 letters: str.isalnum() takes them
        "١٢٣٤٥٦٧٨٩٠".encode(),  # Arabic-Indic digits, sent as UTF-8
        b"abc\ndefgh1234",
        b"short",
    ],
)
async def test_a_request_id_that_is_not_ascii_alphanumeric_is_replaced(client, incoming):
    response = await client.get("/healthz", headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"].encode() != incoming
    assert len(response.headers["x-request-id"]) == 16


async def test_an_ascii_request_id_is_kept(client):
    response = await client.get("/healthz", headers={"X-Request-Id": "Abc123def456"})
    assert response.headers["x-request-id"] == "Abc123def456"
