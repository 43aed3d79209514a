"""A QR as a video file for Chromium's fake camera (``--use-file-for-fake-video-capture``).

Y4M is a plain format: a header line, then per frame ``FRAME\\n`` and the
planes of a 4:2:0 image. A black-and-white picture needs only its grey
levels (the Y plane); both colour planes are a flat 128.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image

WIDTH, HEIGHT = 640, 480


def qr_frame(text: str) -> Image.Image:
    """``text`` as a QR code (level M), centred on a white 640x480 grey image."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    modules = code.modules_count + 8
    code.box_size = max(2, (HEIGHT - 20) // modules)
    picture = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(picture, ((WIDTH - picture.width) // 2, (HEIGHT - picture.height) // 2))
    return frame


def write_y4m(path: Path, frame: Image.Image, frames: int = 5) -> Path:
    """``frame`` (grey) repeated ``frames`` times as a Y4M file at 10 frames per second."""
    width, height = frame.size
    luma = frame.convert("L").tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)
    return path
