"""Photos sent with claims: checked, re-encoded and stripped of metadata.

Only JPEG and PNG are accepted, at most 2 MB as sent and at most 40
megapixels decoded (so no decompression bomb reaches memory). The image is
turned upright by its EXIF orientation, converted to RGB, scaled to at most
1024 px on its longer side and saved as a fresh JPEG: nothing of the
original file (EXIF, GPS, ICC, comments) survives.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from wallet.claims.errors import InvalidPhoto, PhotoTooLarge

__all__ = ["MAX_PHOTO_BYTES", "Photo", "decode_base64_photo", "prepare_photo"]

MAX_PHOTO_BYTES: Final = 2 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000
MIN_SIDE: Final = 64
LONG_SIDE: Final = 1024
_FORMATS: Final = ("JPEG", "PNG")


@dataclass(frozen=True)
class Photo:
    """A re-encoded photo, ready to be sealed."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        """Hex SHA-256 of the re-encoded bytes."""
        return hashlib.sha256(self.data).hexdigest()


def decode_base64_photo(text: str) -> bytes:
    """The bytes of a base64 photo (a ``data:`` URL prefix is allowed); 422 or 413 otherwise."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) > (MAX_PHOTO_BYTES * 4) // 3 + 8:
        raise PhotoTooLarge()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPhoto("base64", "not base64") from None
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge()
    return raw


def _reencode(raw: bytes) -> Photo:
    if len(raw) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=_FORMATS) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise InvalidPhoto("dimensions", "at most 40 megapixels")
                if min(width, height) < MIN_SIDE:
                    raise InvalidPhoto("dimensions", f"at least {MIN_SIDE} px on each side")
                probe.verify()
            with Image.open(io.BytesIO(raw), formats=_FORMATS) as image:
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                rgb = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InvalidPhoto("format", "a JPEG or PNG image") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidPhoto("format", "the image data is damaged") from None
    rgb.thumbnail((LONG_SIDE, LONG_SIDE))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=90, optimize=True)
    return Photo(out.getvalue(), "image/jpeg", rgb.width, rgb.height)


async def prepare_photo(raw: bytes) -> Photo:
    """Check and re-encode ``raw`` off the event loop; :class:`InvalidPhoto` or 413 otherwise."""
    return await asyncio.to_thread(_reencode, raw)
