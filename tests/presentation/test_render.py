"""QR renderings (wallet.presentation.render): what a scanner reads back, sizes and shape."""

from __future__ import annotations

import io
import random
import re
import string
import zlib

import pytest
import zxingcpp
from PIL import Image

from wallet.presentation.render import (
    BORDER,
    PNG_SCALE,
    qr_matrix,
    qr_version,
    render_png,
    render_svg,
)

_ALPHABET = string.ascii_letters + string.digits + "-_"


def _qr_like(length: int, seed: int, tail: str = "") -> str:
    """A string shaped like a QR string: three base64url parts joined by dots."""
    rng = random.Random(seed)
    body = "".join(rng.choice(_ALPHABET) for _ in range(length - 2 - len(tail)))
    third = len(body) // 3
    return f"{body[:third]}.{body[third : 2 * third]}.{body[2 * third :]}{tail}"


ONLINE = _qr_like(331, 1)  # the longest online QR DESIGN §6 allows (version 13)
OFFLINE = _qr_like(412, 2, tail="~01234567")  # the longest offline one (version 15)
SHORT = _qr_like(120, 3)


def _read(image: Image.Image) -> zxingcpp.Barcode:
    [barcode] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return barcode


def _svg_modules(svg: bytes) -> tuple[int, list[list[bool]]]:
    """The modules an SVG from render_svg draws: its stroked path read back, run by run."""
    text = svg.decode("ascii")
    width = int(re.fullmatch(r'.*viewBox="-4 -4\.5 ([0-9]+) \1".*', text, re.S)[1])  # type: ignore[index]
    [path] = re.findall(r'<path fill="none" stroke="#000" d="([^"]*)"/>', text)
    side = width - 2 * BORDER
    modules = [[False] * side for _ in range(side)]
    x = y = 0
    for command, numbers in re.findall(r"([Mmh])([-0-9 ]+)", path):
        values = [int(value) for value in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            for column in range(x, x + values[0]):
                assert not modules[y][column], "a module is drawn twice"
                modules[y][column] = True
            x += values[0]
    return side, modules


def _raster(modules: list[list[bool]]) -> Image.Image:
    side = len(modules)
    image = Image.new("1", (side + 2 * BORDER, side + 2 * BORDER), 1)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + BORDER, y + BORDER), 0)
    return image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)


@pytest.mark.parametrize("text", [SHORT, ONLINE, OFFLINE])
def test_the_png_scans_back_to_the_exact_string_at_level_m(text):
    image = Image.open(io.BytesIO(render_png(text)))
    assert image.format == "PNG" and image.mode == "1"
    side = 17 + 4 * qr_version(text)
    assert image.size == ((side + 2 * BORDER) * PNG_SCALE,) * 2
    read = _read(image)
    assert read.text == text
    assert read.ec_level == "M"
    assert read.symbology_identifier == "]Q1"  # no ECI header


def test_the_png_is_the_matrix_with_a_white_quiet_zone():
    matrix = qr_matrix(ONLINE)
    image = Image.open(io.BytesIO(render_png(ONLINE)))
    scaled = image.resize((image.width // PNG_SCALE,) * 2, Image.Resampling.NEAREST)
    pixels = scaled.load()
    side = len(matrix)
    for y in range(side + 2 * BORDER):
        for x in range(side + 2 * BORDER):
            inside = BORDER <= x < side + BORDER and BORDER <= y < side + BORDER
            dark = inside and matrix[y - BORDER][x - BORDER]
            assert pixels[x, y] == (0 if dark else 255), (x, y)


def test_the_png_chunks_carry_valid_checksums():
    png = render_png(SHORT)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    offset, kinds = 8, []
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        crc = int.from_bytes(png[offset + 8 + length : offset + 12 + length], "big")
        assert zlib.crc32(kind + data) == crc, kind
        kinds.append(kind)
        offset += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize("text", [SHORT, ONLINE, OFFLINE])
def test_the_svg_draws_exactly_the_matrix_and_scans_back(text):
    svg = render_svg(text)
    side, drawn = _svg_modules(svg)
    assert drawn == qr_matrix(text)
    assert side == 17 + 4 * qr_version(text)
    assert _read(_raster(drawn)).text == text


@pytest.mark.parametrize("text", [ONLINE, OFFLINE])
def test_the_svg_is_compact_one_path_no_rect_per_module(text):
    svg = render_svg(text)
    assert len(svg) <= 10 * 1024
    assert b"<rect" not in svg
    assert svg.count(b"<path") == 2  # the white square and the modules
    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" ')


def test_versions_stay_within_the_design_bounds_at_level_m():
    assert qr_version(ONLINE) <= 13
    assert qr_version(OFFLINE) <= 15
    matrix = qr_matrix(SHORT)
    assert len(matrix) == 17 + 4 * qr_version(SHORT)
    assert all(len(row) == len(matrix) for row in matrix)
    assert all(isinstance(module, bool) for row in matrix for module in row)


def test_the_finder_pattern_is_where_a_scanner_looks():
    matrix = qr_matrix(SHORT)
    ring = [matrix[0][x] for x in range(7)] + [matrix[y][0] for y in range(7)]
    assert all(ring)
    assert not any(matrix[1][1:6]) and all(matrix[3][2:5])
    assert not matrix[7][7]  # the separator


def _zint_own_choice(text: str) -> list[list[bool]]:
    """The symbol zint makes when it scores the eight masks itself."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(add_quiet_zones=False)
    side, pixels = image.shape[0], bytes(memoryview(image))
    return [[pixels[y * side + x] == 0 for x in range(side)] for y in range(side)]


@pytest.mark.parametrize("length", [1, 7, 25, 60, 120, 200, 275, 331, 412])
def test_the_mask_is_the_one_zint_chooses_itself(length):
    rng = random.Random(length)
    alphabet = _ALPHABET + ".~"
    for _ in range(12):
        text = "".join(rng.choice(alphabet) for _ in range(length))
        assert qr_matrix(text) == _zint_own_choice(text), text


@pytest.mark.parametrize("text", ["", "车牌号", "abc\u00e9"])
def test_anything_but_non_empty_ascii_is_refused(text):
    for render in (render_png, render_svg, qr_matrix, qr_version):
        with pytest.raises(ValueError):
            render(text)
