"""One A4 page (more if the fields run long) for a :class:`Document`, as PDF bytes.

The layout, top to bottom: title and subtitle; a bordered two-column table of
the fields (label, value); the annotation in a coloured band, when there is
one; the QR, drawn as vector squares (sharp at any printer resolution), with
a caption on how to verify it beside it; the small print. Chinese text is set
in Noto Sans SC (SIL Open Font License 1.1, from the ``pylopdf-fonts-zh-cn``
package), embedded as a subset of the glyphs the page uses (a page embeds
some tens of kilobytes, not the font's 8 MB).

The QR is drawn at error-correction level M with modules of 0.8 mm, its side
kept between :data:`QR_MIN` and :data:`QR_SIZE` millimetres: a module stays
at least about 0.55 mm on paper for the longest strings a document carries
(an annotated copy with many fields), which phone cameras read from a print.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import zxingcpp
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont
from pylopdf_fonts_zh_cn import sans_path

__all__ = ["CAPTION", "QR_SIZE", "Document", "DocumentField", "font_path", "render_pdf"]

# fontTools reports every subset it makes at INFO, glyph lists included: not for our logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT: Final = "NotoSansSC"
QR_SIZE: Final = 62.0
"""Largest side of the QR on paper, in millimetres (quiet zone not included)."""
QR_MIN: Final = 46.0
"""Smallest side: a short string is drawn with modules of :data:`QR_MODULE` mm, not smaller."""
QR_MODULE: Final = 0.8
QR_QUIET: Final = 4
"""Modules of white around the QR (ISO/IEC 18004 asks for 4)."""
CAPTION: Final = (
    "请使用道路运输电子证照核验应用扫描左侧二维码。"
    "证照的有效状态以扫码时查询到的实时结果为准；"
    "本页所载内容与核验结果不一致的，以核验结果为准。"
)

_MARGIN: Final = 18.0
_ONE_PER_ROW: Final = 8
"""Up to this many fields, one per row; more are paired two to a row where they are short."""
_INK: Final = (33, 33, 33)
_MUTED: Final = (110, 110, 110)
_RULE: Final = (90, 90, 90)
_LABEL_FILL: Final = (241, 243, 246)
_BAND_FILL: Final = (255, 243, 230)
_BAND_EDGE: Final = (196, 92, 32)
_BAND_INK: Final = (150, 45, 10)


@dataclass(frozen=True)
class DocumentField:
    """One row of the table: a label and its value, both as printed."""

    label: str
    value: str


@dataclass(frozen=True)
class Document:
    """What a printable page shows; see the module docstring for the layout."""

    title: str
    subtitle: str
    fields: Sequence[DocumentField]
    qr: str
    annotation: str | None = None
    notes: Sequence[str] = ()


@cache
def font_path() -> Path:
    """The font file embedded in every document (Noto Sans SC Regular, OpenType CFF)."""
    path = Path(sans_path())
    if not path.is_file():  # pragma: no cover - a broken installation
        raise RuntimeError(f"the document font is missing: {path}")
    return path


def _modules(text: str) -> list[list[bool]]:
    """The QR's modules row by row, ``True`` for dark, at level M (zint's encoder, in C++)."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    side = image.shape[0]
    modules = bytes(memoryview(image))  # type: ignore[arg-type]
    return [
        [m == 0 for m in modules[start : start + side]] for start in range(0, side * side, side)
    ]


def _draw_qr(pdf: FPDF, matrix: list[list[bool]], x: float, y: float, size: float) -> None:
    """The QR at (x, y), ``size`` mm square, as one filled rectangle per run of dark modules."""
    count = len(matrix)
    step = size / count
    # A hair of overlap between rows, so that no light seam shows between them
    # when a viewer or printer anti-aliases the edges.
    seam = min(0.02, step / 10)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = y + row_index * step
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            pdf.rect(x + start * step, top, (column - start) * step, step + seam, style="F")


_UNUSED_TABLES: Final = ("GSUB", "GPOS", "BASE", "vhea", "vmtx", "VORG")


@cache
def _parsed_font() -> TTFFont:
    """The font as fpdf2 reads it (its cmap and widths), parsed once per process."""
    scratch = FPDF()
    scratch.add_font(FONT, "", str(font_path()))
    font = scratch.fonts[FONT.lower()]
    assert isinstance(font, TTFFont)
    return font


def _fresh_font() -> TTFFont:
    """A font object for one document: the parsed tables shared, its own glyph subset.

    Parsing the font's cmap and widths is a third of a rendering, and the
    same for every document; only the subset (which the output step cuts
    out of the font file, in place) must be the document's own. So each
    document gets a shallow copy of the parsed font (the character widths
    and glyph ids shared: fpdf2 only reads them, or adds the same default
    width for a character the font lacks) with a new, lazily read font file
    and an empty subset. The layout and vertical-writing tables are dropped
    before subsetting (the page is set horizontally without shaping), and
    bounding boxes are not recomputed (the font's own are kept).
    """
    font = copy(_parsed_font())
    ttfont = ttLib.TTFont(font_path(), recalcTimestamp=False, recalcBBoxes=False, lazy=True)
    for tag in _UNUSED_TABLES:
        if tag in ttfont:
            del ttfont[tag]
    font.ttfont = ttfont
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    return font


class _Page(FPDF):
    """A4 portrait in millimetres, with the document font loaded."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        font = _fresh_font()
        font.i = 1
        self.fonts[FONT.lower()] = font
        self._set_min_pdf_version("1.6")  # what add_font sets for a CID-keyed CFF font
        self.set_creator("rtel-wallet")


def _header(pdf: FPDF, document: Document) -> None:
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=22)
    pdf.multi_cell(0, 11, document.title, align="C", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN)
    pdf.set_font(FONT, size=12)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 7, document.subtitle, align="C", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN)
    pdf.ln(3)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y() + 1.0, pdf.w - pdf.r_margin, pdf.get_y() + 1.0)
    pdf.ln(6)


def _pack(pdf: FPDF, fields: Sequence[DocumentField], half: float) -> list[list[DocumentField]]:
    """Rows of one or two fields: two short ones side by side, a long one alone, in order."""
    rows: list[list[DocumentField]] = []
    pending: DocumentField | None = None
    for item in fields:
        if pdf.get_string_width(item.value or "—") > half:
            if pending is not None:
                rows.append([pending])
                pending = None
            rows.append([item])
        elif pending is None:
            pending = item
        else:
            rows.append([pending, item])
            pending = None
    if pending is not None:
        rows.append([pending])
    return rows


def _table(pdf: FPDF, fields: Sequence[DocumentField]) -> None:
    """The fields, bordered: one per row, or two per row when there are many (a licence face)."""
    if not fields:
        return
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=11 if len(fields) <= _ONE_PER_ROW else 10.5)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.25)
    label_style = FontFace(fill_color=_LABEL_FILL, color=_MUTED)
    pad_x = 2.5
    if len(fields) <= _ONE_PER_ROW:
        widths: tuple[float, ...] = (30, 70)
        rows = [[item] for item in fields]
    else:
        widths = (17, 33, 17, 33)
        rows = _pack(pdf, fields, pdf.epw * 0.33 - 2 * pad_x)
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=False,
        line_height=6.2,
        padding=(1.8, pad_x),
        text_align="LEFT",
        v_align="MIDDLE",
        wrapmode=WrapMode.CHAR,
    ) as table:
        for items in rows:
            row = table.row()
            for index, item in enumerate(items):
                row.cell(item.label, style=label_style)
                last = index == len(items) - 1
                span = len(widths) - 1 - 2 * index if last else 1
                row.cell(item.value or "—", colspan=span)
    pdf.ln(6)


def _annotation(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, size=13)
    width = pdf.epw
    pad = 4.0
    line = 7.0
    lines = pdf.multi_cell(
        width - 2 * pad, line, text, dry_run=True, output="LINES", wrapmode=WrapMode.CHAR
    )
    assert isinstance(lines, list)  # output="LINES" answers the list of lines
    height = len(lines) * line + 2 * pad
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_fill_color(*_BAND_FILL)
    pdf.set_draw_color(*_BAND_EDGE)
    pdf.set_line_width(0.5)
    pdf.rect(pdf.l_margin, top, width, height, style="DF")
    pdf.set_fill_color(*_BAND_EDGE)
    pdf.rect(pdf.l_margin, top, 2.2, height, style="F")
    pdf.set_text_color(*_BAND_INK)
    pdf.set_xy(pdf.l_margin + pad, top + pad)
    pdf.multi_cell(width - 2 * pad, line, text, align="C", wrapmode=WrapMode.CHAR)
    pdf.set_y(top + height + 6)


def _qr_block(pdf: FPDF, text: str) -> None:
    matrix = _modules(text)
    size = min(QR_SIZE, max(QR_MIN, len(matrix) * QR_MODULE))
    quiet = size / len(matrix) * QR_QUIET
    block = size + 2 * quiet
    if pdf.get_y() + block > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y()
    left = pdf.l_margin
    _draw_qr(pdf, matrix, left + quiet, top + quiet, size)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, block, block)
    caption_x = left + block + 8
    caption_w = pdf.w - pdf.r_margin - caption_x
    pdf.set_xy(caption_x, top + quiet)
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=13)
    pdf.cell(caption_w, 8, "扫码核验", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.set_x(caption_x)
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(caption_w, 5.6, CAPTION, wrapmode=WrapMode.CHAR)
    pdf.set_y(top + block + 6)


def _notes(pdf: FPDF, notes: Sequence[str]) -> None:
    if not notes:
        return
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2.5)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*_MUTED)
    for note in notes:
        pdf.multi_cell(0, 4.2, note, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN)


def render_pdf(document: Document) -> bytes:
    """The document as PDF bytes: A4 portrait, font subset embedded, the QR as vectors."""
    pdf = _Page()
    pdf.set_title(document.title)
    pdf.add_page()
    _header(pdf, document)
    _table(pdf, document.fields)
    if document.annotation:
        _annotation(pdf, document.annotation)
    _qr_block(pdf, document.qr)
    _notes(pdf, document.notes)
    return bytes(pdf.output())
