"""The log: one line per record whatever a request carries, and no rejected value in it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest

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


async def test_a_newline_in_the_path_cannot_forge_an_access_line(client, log_output):
    response = await client.get("/api/v1/licences/L%0a" + FORGED.replace(" ", "%20") + "/x")
    assert response.status_code == 404
    lines = log_output.getvalue().splitlines()
    access = [line for line in lines if " httpkit.access " in line]
    assert len(access) == 1, lines
    # The forged text stays inside the genuine line, after an escaped newline.
    assert [line for line in lines if "/forged" in line and " httpx " not in line] == access
    assert "GET /api/v1/licences/L\\n" + FORGED in access[0]


@pytest.mark.parametrize("char", ["\r", "\x1b", "\x85", "\u2028", "\x00"])
async def test_other_control_characters_are_escaped(client, log_output, char):
    await client.get("/healthz/" + quote(f"a{char}b"))
    logging.getLogger("tests.logging").warning("value %s end", f"a{char}b")
    text = log_output.getvalue()
    assert char not in text
    assert "value a\\" in text and "/healthz/a\\" in text


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
    assert len(text.splitlines()) == 1
    assert "builtins.KeyError (message not logged)" in text
    assert "builtins.ValueError (message not logged)" in text
    assert "test_logging.py" in text  # the frames are there


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
