"""The inspector's scanner page (``/scan/``): plain files calling the verifier API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute

from httpkit.web import page_routes

__all__ = ["SCAN_DIR", "routes"]

SCAN_DIR = Path(__file__).parent / "static" / "scan"


def routes() -> list[BaseRoute]:
    """``/scan/`` (the page, its script and the vendored QR decoder) and its labels."""
    return page_routes("/scan", SCAN_DIR, camera=True)
