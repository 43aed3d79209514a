"""Serving the pages people use (the inspector's scanner, the authority's console).

Plain files from a package folder, each answer with headers that keep the
pages honest: a ``Content-Security-Policy`` that allows scripts from this
origin only (no inline script, no ``eval``), no framing, no referrer, no
sniffing. The pages call the same JSON APIs as any other client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.responses import JSONResponse
from wallet.licences.catalogue import CATALOGUE

__all__ = ["PAGE_HEADERS", "SecureHeaders", "page_headers", "page_routes", "pages_mount"]

_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS: dict[str, str] = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-cache",
}


def page_headers(camera: bool = False) -> dict[str, str]:
    """The headers of every page answer; ``camera`` lets the page ask for the camera."""
    policy = "camera=(self)" if camera else "camera=()"
    return {**PAGE_HEADERS, "permissions-policy": f"{policy}, microphone=(), geolocation=()"}


class SecureHeaders:
    """Pure ASGI: sets ``headers`` on every answer of ``app`` (replacing any it set)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.names = {k for k, _ in self.raw}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k not in self.names]
                message["headers"] = [*kept, *self.raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def pages_mount(path: str, directory: Path, *, camera: bool = False) -> Mount:
    """``directory`` served under ``path`` (``index.html`` for the folder itself)."""
    files = StaticFiles(directory=directory, html=True)
    return Mount(path, app=SecureHeaders(files, page_headers(camera)), name=path.strip("/"))


def catalogue_labels() -> dict[str, Any]:
    """The printed names of every kind, field and enum code (no personal data)."""
    return {
        code: {
            "name": kind.name,
            "fields": {
                spec.name: {"label": spec.label, "choices": dict(spec.choice_labels or ())}
                for spec in kind.fields
            },
        }
        for code, kind in CATALOGUE.items()
    }


async def _labels(request: Request) -> Response:
    return JSONResponse(catalogue_labels(), headers=page_headers())


def page_routes(path: str, directory: Path, *, camera: bool = False) -> list[BaseRoute]:
    """The pages under ``path`` and ``path/labels.json`` (the catalogue's printed names)."""
    return [
        # Page data beside the page's files, like them outside the API documents.
        Route(f"{path}/labels.json", _labels, methods=["GET"], include_in_schema=False),
        pages_mount(path, directory, camera=camera),
    ]
