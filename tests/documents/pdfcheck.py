"""Reading a PDF back as a person (and a phone) would: a page image, its QR, its text.

Uses Debian's poppler-utils (``pdftoppm``, ``pdftotext``; ``scripts/test``
installs them) and zxing-cpp. Without poppler-utils the calling test is
skipped, except under ``CI=true`` where it fails. Each rendered page is kept
under :func:`artefact_dir` so that a person can look at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

__all__ = ["artefact_dir", "page_png", "pdf_qr", "pdf_text", "require_poppler"]


def require_poppler() -> None:
    """Skip (fail under CI) when pdftoppm or pdftotext is missing."""
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} missing: apt-get install poppler-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def artefact_dir() -> Path:
    """Where rendered pages are kept: ``$RTEL_ARTEFACTS`` or ``<tmp>/rtel-artefacts``."""
    path = Path(os.environ.get("RTEL_ARTEFACTS") or Path(tempfile.gettempdir()) / "rtel-artefacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def page_png(pdf: bytes, name: str, dpi: int = 150) -> Path:
    """Page 1 of ``pdf`` as a PNG at ``dpi``, kept as ``<artefact_dir>/<name>.png``."""
    require_poppler()
    out = artefact_dir()
    (out / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(out / f"{name}.pdf"),
            str(out / name),
        ],
        check=True,
        timeout=60,
    )
    png = out / f"{name}.png"
    print(f"rendered page kept at {png}")
    return png


def pdf_qr(pdf: bytes, name: str) -> str:
    """The text of the one QR on page 1, decoded from its rendering."""
    with Image.open(page_png(pdf, name)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    codes = [c.text for c in found if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, f"expected one QR code on the page, found {len(codes)}"
    return codes[0]


def pdf_text(pdf: bytes) -> str:
    """The text of every page, as pdftotext extracts it (what copy-paste and search see)."""
    require_poppler()
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode("utf-8")
