"""Renderings of a QR string (the mini-program draws its own; these serve pages and print)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["qr_version", "render_png", "render_svg"]


def _code(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=8)
    code.add_data(text.encode("ascii"), optimize=0)
    code.make(fit=True)
    return code


def qr_version(text: str) -> int:
    """The smallest QR version holding ``text`` at error-correction level M."""
    return int(_code(text).version)


def render_png(text: str) -> bytes:
    image = _code(text).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def render_svg(text: str) -> bytes:
    image = _code(text).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return bytes(image.to_string(encoding="unicode").encode())
