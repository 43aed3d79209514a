"""The renderer: a real A4 page, its QR decoding back to the exact string, its text searchable."""

from __future__ import annotations

import re
import secrets
import time

import pytest

from tests.documents.pdfcheck import pdf_qr, pdf_text
from wallet.documents import Document, DocumentField, render_pdf

MAX_BYTES = 120_000
"""A page with a subset font and a vector QR stays well under this (measured ~46 kB)."""


def _token(length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    body = "".join(secrets.choice(alphabet) for _ in range(length - 2))
    return (
        body[: length // 3]
        + "."
        + body[length // 3 : 2 * length // 3]
        + "."
        + body[2 * length // 3 :]
    )


def _copy_document(qr: str) -> Document:
    return Document(
        title="道路运输证",
        subtitle="电子证照加注件",
        fields=[
            DocumentField("证件类型", "道路运输证"),
            DocumentField("证号", "辽交运管沈字210100123456号"),
            DocumentField("业户名称", "沈阳市和平区某某物流有限公司"),
            DocumentField("车辆号牌", "辽A12345"),
            DocumentField(
                "经营范围",
                "普通货运、货物专用运输（集装箱）、大型物件运输（一类）、"
                "道路危险货物运输（第2类1项、第3类）",
            ),
            DocumentField("有效期至", "2027-12-31"),
        ],
        qr=qr,
        annotation="仅供沈阳某某物流有限公司用于入职核验，2026年12月31日前有效",
        notes=("签发：道路运输电子证照平台", "加注件编号：abcdefghijklmnopqrstuv"),
    )


@pytest.mark.parametrize("length", [120, 330, 900])
def test_qr_decodes_to_the_exact_string(length: int) -> None:
    qr = _token(length)
    pdf = render_pdf(_copy_document(qr))
    assert pdf.startswith(b"%PDF-")
    assert pdf_qr(pdf, f"render-{length}") == qr


def test_text_carries_the_labels_values_annotation_and_notes() -> None:
    document = _copy_document(_token(330))
    text = re.sub(r"\s+", "", pdf_text(render_pdf(document)))
    for field in document.fields:
        assert field.label in text
    assert "辽A12345" in text
    assert "仅供沈阳某某物流有限公司用于入职核验，2026年12月31日前有效" in text
    assert "扫码核验" in text
    assert "加注件编号：abcdefghijklmnopqrstuv" in text


def test_a4_portrait_with_the_font_embedded_as_a_subset() -> None:
    pdf = render_pdf(_copy_document(_token(330)))
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 portrait in points
    # The embedded font is a subset (a six-letter tag before its name), not the 8 MB file.
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansSC", pdf)
    assert len(pdf) < MAX_BYTES


def test_without_annotation_or_notes_and_a_long_table() -> None:
    qr = _token(330)
    fields = [DocumentField(f"字段{i}", "值" * (i % 7 + 1)) for i in range(40)]
    pdf = render_pdf(Document("道路运输证", "电子证照打印凭证", fields, qr))
    # The table runs onto a second page and the QR follows it there, still readable.
    text = pdf_text(pdf)
    assert "字段39" in text
    assert "\f" in text.rstrip("\f")  # more than one page
    assert len(pdf) < 2 * MAX_BYTES


def test_rendering_time_is_bounded() -> None:
    document = _copy_document(_token(330))
    started = time.perf_counter()
    render_pdf(document)
    assert time.perf_counter() - started < 5.0


def test_each_document_embeds_its_own_glyphs_even_rendered_at_once() -> None:
    """The parsed font is shared between documents; the subset of each is its own."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["甲乙丙丁", "戊己庚辛", "壬癸子丑", "寅卯辰巳"]
    documents = [
        Document("道路运输证", "电子证照加注件", [DocumentField("姓名", n)], _token(200))
        for n in names
    ]
    with ThreadPoolExecutor(4) as pool:
        pdfs = list(pool.map(render_pdf, documents))
    for name, pdf in zip(names, pdfs, strict=True):
        text = pdf_text(pdf)
        assert name in text
        for other in names:
            if other != name:
                assert other not in text
