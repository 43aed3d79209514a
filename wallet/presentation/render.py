"""Renderings of a QR string (the mini-program draws its own; these serve pages and print).

The symbol comes from zint's QR encoder inside zxing-cpp (C++): error-correction
level M, the smallest version that holds the text, no ECI header, and the mask
ISO/IEC 18004 §7.8.3 asks for (lowest penalty, the first on a tie).
:func:`qr_matrix` hands the module matrix to any other drawing (the printed
licence file draws it as vector rectangles).

Choosing the mask is most of zint's time (eight masked symbols scored module
by module). Here zint encodes once under mask 0; the other seven symbols of
the same version differ from it by a fixed pattern (the mask bits over the
data modules, and the format information), learnt once per version by
encoding under each mask; each candidate is scored with the same rules as
zint's own scoring, on bit sets held in Python integers, a few dozen whole-symbol
operations per mask. The result is the symbol zint itself picks
(``tests/presentation/test_render.py`` compares them).

* PNG: 1-bit greyscale, 8 pixels per module, a 4-module quiet zone. At 8 pixels
  per module and one bit per pixel a module is exactly one byte of a scanline,
  so each scanline is the encoder's row of 0x00/0xff bytes framed by the quiet
  zone; the seven repeats of a row are PNG "Up" filter rows of zeros; deflate
  with the run-length strategy.
* SVG: one ``<path>`` stroked one module wide, a horizontal segment per run of
  dark modules in relative coordinates (about 7 KB for a version 13 symbol),
  on a white square that includes the quiet zone.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass

import zxingcpp

__all__ = ["BORDER", "PNG_SCALE", "qr_matrix", "qr_version", "render_png", "render_svg"]

#: Quiet zone around the symbol, in modules (ISO/IEC 18004: at least 4).
BORDER = 4
#: Pixels per module in :func:`render_png` (one module = one byte of a 1-bit scanline).
PNG_SCALE = 8

_DARK = 0x00
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _encode(text: str, mask: int) -> tuple[int, bytes]:
    """Side and modules (0x00 dark, 0xff light, row by row) of ``text`` under ``mask`` (0–7)."""
    barcode = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=mask
    )
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    # The image exports the buffer protocol; its stub does not declare it.
    return image.shape[0], bytes(memoryview(image))  # type: ignore[arg-type]


# Bit sets for scoring: one bit per module, rows (or columns) one after the other with
# _GAP light modules between them and _PAD around, so that no run or pattern crosses
# from one row into the next and the symbol's edge reads as light, as zint reads it.
_GAP = 4
_PAD = 16
_AS_BITS = bytes.maketrans(b"\x00\xff", b"10")


def _bit_sets(side: int, modules: bytes) -> tuple[int, int]:
    """The dark modules as bit sets: by rows, and by columns."""
    gap, pad = b"0" * _GAP, b"0" * _PAD
    rows = gap.join([modules[i : i + side] for i in range(0, side * side, side)])
    columns = gap.join([modules[x::side] for x in range(side)])
    return (
        int(pad + rows.translate(_AS_BITS) + pad, 2),
        int(pad + columns.translate(_AS_BITS) + pad, 2),
    )


@dataclass(frozen=True, slots=True)
class _Masks:
    """One version's masks, relative to mask 0: XOR patterns and the layout of the bit sets."""

    width: int  # bits per row in a bit set
    everything: int  # every bit of a bit set (modules, gaps and padding)
    modules: int  # the bits that are modules
    rows: tuple[int, ...]  # per mask: XOR of the dark modules by rows
    columns: tuple[int, ...]  # per mask: XOR of the dark modules by columns
    image: tuple[int, ...]  # per mask: XOR of the module bytes (as one big-endian integer)


_MASKS: dict[int, _Masks] = {}


def _masks(text: str, side: int, modules: bytes, rows: int, columns: int) -> _Masks:
    """The masks of ``side``: learnt from ``text`` (already encoded under mask 0) the first time."""
    known = _MASKS.get(side)
    if known is not None:
        return known
    image = int.from_bytes(modules)
    row_xors, column_xors, image_xors = [0], [0], [0]
    for mask in range(1, 8):
        masked_side, masked = _encode(text, mask)
        if masked_side != side:  # pragma: no cover - a mask never changes the version
            raise RuntimeError("the QR encoder changed version with the mask")
        masked_rows, masked_columns = _bit_sets(side, masked)
        row_xors.append(masked_rows ^ rows)
        column_xors.append(masked_columns ^ columns)
        image_xors.append(int.from_bytes(masked) ^ image)
    width = side + _GAP
    length = 2 * _PAD + side * width - _GAP
    layout = "0" * _PAD + ("0" * _GAP).join(["1" * side] * side) + "0" * _PAD
    known = _MASKS[side] = _Masks(
        width,
        (1 << length) - 1,
        int(layout, 2),
        tuple(row_xors),
        tuple(column_xors),
        tuple(image_xors),
    )
    return known


def _runs(bits: int) -> int:
    """Rule 1 (ISO/IEC 18004 N1): 3 + (length − 5) for each run of 5 or more."""
    starts = bits & bits >> 1 & bits >> 2 & bits >> 3 & bits >> 4
    return starts.bit_count() + 2 * (starts & ~(starts << 1)).bit_count()


def _finder_like(dark: int, light: int) -> int:
    """Rule 3 (N3): 1:1:3:1:1 dark-light patterns with 4 light modules before or after."""
    found = dark & light >> 1 & dark >> 2 & dark >> 3 & dark >> 4 & light >> 5 & dark >> 6
    if not found:
        return 0
    before = light << 1 & light << 2 & light << 3 & light << 4
    after = light >> 7 & light >> 8 & light >> 9 & light >> 10
    return (found & (before | after)).bit_count()


def _penalty(side: int, masks: _Masks, rows: int, columns: int) -> int:
    """The mask penalty of a symbol (rules N1–N4, weighed 1, 3, 40 and 10 as zint does)."""
    width, modules = masks.width, masks.modules
    light_rows, light_columns = modules & ~rows, modules & ~columns
    runs = _runs(rows) + _runs(light_rows) + _runs(columns) + _runs(light_columns)
    blocks = (rows & rows >> 1 & rows >> width & rows >> (width + 1)).bit_count() + (
        light_rows & light_rows >> 1 & light_rows >> width & light_rows >> (width + 1)
    ).bit_count()
    finders = _finder_like(rows, masks.everything & ~rows) + _finder_like(
        columns, masks.everything & ~columns
    )
    percent = (100.0 * rows.bit_count()) / (side * side)
    return runs + 3 * blocks + 40 * finders + 10 * int(abs(percent - 50.0) / 5.0)


def _symbol(text: str) -> tuple[int, bytes]:
    """Side in modules and the modules row by row: 0x00 dark, 0xff light, no quiet zone."""
    if not text or not text.isascii():
        raise ValueError("a QR string is non-empty ASCII")
    side, modules = _encode(text, 0)
    rows, columns = _bit_sets(side, modules)
    masks = _masks(text, side, modules, rows, columns)
    best = min(
        range(8),
        key=lambda mask: _penalty(
            side, masks, rows ^ masks.rows[mask], columns ^ masks.columns[mask]
        ),
    )
    if best:
        modules = (int.from_bytes(modules) ^ masks.image[best]).to_bytes(side * side)
    return side, modules


def qr_matrix(text: str) -> list[list[bool]]:
    """The symbol's modules, row by row, ``True`` for dark; no quiet zone around it."""
    side, modules = _symbol(text)
    return [
        [module == _DARK for module in modules[start : start + side]]
        for start in range(0, side * side, side)
    ]


def qr_version(text: str) -> int:
    """The QR version (1–40) that :func:`qr_matrix` and the renderings use for ``text``."""
    if not text or not text.isascii():
        raise ValueError("a QR string is non-empty ASCII")
    side, _ = _encode(text, 0)  # the mask never changes the version
    return (side - 17) // 4


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def render_png(text: str) -> bytes:
    """A 1-bit greyscale PNG, :data:`PNG_SCALE` pixels per module, quiet zone included."""
    side, modules = _symbol(text)
    width = side + 2 * BORDER
    margin = b"\xff" * BORDER
    repeats = (b"\x02" + bytes(width)) * (PNG_SCALE - 1)
    blank = (b"\x00" + b"\xff" * width + repeats) * BORDER
    rows = repeats.join(
        [b"\x00" + margin + modules[i : i + side] + margin for i in range(0, side * side, side)]
    )
    deflate = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = deflate.compress(blank + rows + repeats + blank) + deflate.flush()
    pixels = width * PNG_SCALE
    header = struct.pack(">IIBBBBB", pixels, pixels, 1, 0, 0, 0, 0)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


class _Segments(dict[bytes, str]):
    """Path commands for the pieces of a symbol ``side`` modules wide, made on first use.

    :func:`render_svg` splits the rows at every light-to-dark transition: a
    piece is a dark run and the light after it, less the light module and the
    dark one the split consumed. The light may span row ends (``|``, each
    followed by one added light module): then it is one move to the next dark
    module, rows below.
    """

    #: Memoised pieces per side at most (each is a few dozen bytes).
    LIMIT = 1 << 15

    def __init__(self, side: int) -> None:
        super().__init__()
        self.side = side

    def __missing__(self, piece: bytes) -> str:
        light = piece.lstrip(b"\x00") + b"\xff"
        command = f"h{len(piece) - len(light) + 2}"
        rows = light.split(b"|")
        if len(rows) > 1:
            # The pen is at the end of the dark run; the next row begins with the added module.
            command += f"m{len(rows[-1]) - 1 - (self.side - len(rows[0]))} {len(rows) - 1}"
        else:
            command += f"m{len(light)} 0"
        if len(self) < self.LIMIT:
            self[piece] = command
        return command


@functools.cache
def _segments(side: int) -> _Segments:
    return _Segments(side)


def render_svg(text: str) -> bytes:
    """A compact SVG: one stroked path of dark runs over a white square (quiet zone included).

    The view box starts half a module above the first row, so each row's runs
    are drawn at integer coordinates by a stroke one module wide. A symbol
    begins with a dark module (the corner of a finder pattern) and, once its
    trailing light modules are dropped, ends with one.
    """
    side, modules = _symbol(text)
    rows = b"|\xff".join([modules[i : i + side] for i in range(0, side * side, side)])
    pieces = (b"\xff" + rows.rstrip(b"\xff|")).split(b"\xff\x00")
    last = pieces.pop()
    path = "".join(map(_segments(side).__getitem__, pieces[1:]))
    width = side + 2 * BORDER
    pixels = width * PNG_SCALE
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="-{BORDER} -{BORDER}.5 {width} {width}" width="{pixels}" height="{pixels}" '
        'shape-rendering="crispEdges">'
        f'<path fill="#fff" d="M-{BORDER}-{BORDER}.5h{width}v{width}h-{width}z"/>'
        f'<path fill="none" stroke="#000" d="M0 0{path}h{len(last) + 1}"/></svg>'
    ).encode("ascii")
