"""Claim photos sent as ``wx.uploadFile`` sends them (``multipart/form-data``), over real HTTP.

The combined app is served by uvicorn on a loopback port for these tests, so
bodies really stream: an oversized upload is refused (413) while it is still
being sent, before the server has read it whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from PIL import Image

from tests.factories import authority
from tests.holder_helpers import bearer, driver_body, identity_of, issue, jpeg, sign_in
from wallet.claims.photos import MAX_PHOTO_BYTES

BOUNDARY = "----WeChatUploadBoundary7MA4YWxkTrZu0gW"


@pytest.fixture
async def live(served, rt) -> AsyncIterator[str]:
    """The app over real HTTP on a free loopback port (the suite's loop, database, cache)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(served, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _holder(http: httpx.AsyncClient, rt, seed: int = 61) -> tuple[str, str]:
    """A bound driver whose licence has no registry photo: (ref, token)."""
    body = driver_body(seed)
    [ref] = await issue(rt, [body])
    token = await sign_in(http, f"upload{seed}")
    bound = await http.post("/api/v1/identity", json=identity_of(body), headers=bearer(token))
    assert bound.status_code == 200, bound.text
    return ref, token


def _part(name: str, content: bytes, filename: str | None = "tmp_3f2a.jpg") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + content
        + b"\r\n"
    )


def _multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def _raw_exchange(base: str, head: str, body_chunks: list[bytes]) -> str:
    """Send a request head and some body over a raw socket; the status line that comes back."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode())
        for chunk in body_chunks:
            writer.write(chunk)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=10)
        return line.decode().strip()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_upload_file_claims_with_the_photo(live, rt, holder):
    async with httpx.AsyncClient(base_url=live) as http:
        ref, token = await _holder(http, rt)
        image = jpeg(600, 800)
        response = await http.post(
            f"/api/v1/licences/{ref}/claim",
            files={"photo": ("tmp_3f2a.jpg", image, "image/jpeg")},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending_review"
        caller = await authority(http, rt)
        [item] = (await caller.get("/authority/v1/claims")).json()["items"]
        photo = await caller.get(item["photo_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(photo.content)) as stored:
        assert stored.format == "JPEG" and "exif" not in stored.info  # re-encoded, EXIF gone


async def test_the_same_claim_as_json_and_as_upload_agree(live, rt, holder):
    async with httpx.AsyncClient(base_url=live) as http:
        ref, token = await _holder(http, rt, seed=62)
        first = await http.post(
            f"/api/v1/licences/{ref}/claim",
            content=_multipart(_part("photo", jpeg())),
            headers=bearer(token) | {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        again = await http.post(
            f"/api/v1/licences/{ref}/claim",
            content=_multipart(_part("photo", jpeg())),
            headers=bearer(token) | {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert first.status_code == 201, first.text
    assert again.status_code in (200, 201) and again.json()["claim_id"] == first.json()["claim_id"]


@pytest.mark.parametrize(
    ("body", "ctype", "status", "code"),
    [
        (_multipart(_part("photo", b"not an image")), None, 422, None),
        (_multipart(_part("avatar", b"x")), None, 422, "validation_failed"),
        (_multipart(_part("photo", b"x"), _part("note", b"hi", None)), None, 422, None),
        (_multipart(), None, 422, "validation_failed"),
        (_multipart(_part("photo", b"")), None, 422, "validation_failed"),
        (b"--nonsense", None, 400, "malformed_multipart"),
        (_multipart(_part("photo", b"x")), "multipart/form-data", 415, "unsupported_media_type"),
    ],
)
async def test_bad_uploads_are_problems(live, rt, holder, body, ctype, status, code):
    async with httpx.AsyncClient(base_url=live) as http:
        ref, token = await _holder(http, rt, seed=63)
        response = await http.post(
            f"/api/v1/licences/{ref}/claim",
            content=body,
            headers=bearer(token)
            | {"Content-Type": ctype or f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.json()["code"] == code


async def test_a_declared_oversized_upload_is_refused_before_its_body(live, rt, holder):
    async with httpx.AsyncClient(base_url=live) as http:
        ref, token = await _holder(http, rt, seed=64)
    head = (
        f"POST /api/v1/licences/{ref}/claim HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    assert await _raw_exchange(live, head, []) == "HTTP/1.1 413 Request Entity Too Large"


async def test_an_oversized_streamed_upload_is_refused_while_it_streams(live, rt, holder):
    async with httpx.AsyncClient(base_url=live) as http:
        ref, token = await _holder(http, rt, seed=65)
    head = (
        f"POST /api/v1/licences/{ref}/claim HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    opening = _part("photo", b"")[: -len(b"\r\n")]
    piece = b"\xff" * (256 * 1024)
    sent = [opening] + [piece] * (MAX_PHOTO_BYTES // len(piece) + 2)
    chunks = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in sent]
    # The body never ends (no last chunk): an answer proves the limit was applied mid-stream.
    assert await _raw_exchange(live, head, chunks) == "HTTP/1.1 413 Request Entity Too Large"
