"""The scanner page's files: served with a strict policy, every verdict explained."""

from __future__ import annotations

import re

from verifier.web import SCAN_DIR
from wallet.verification.verdict import Verdict


async def test_the_pages_allow_no_inline_script(client):
    for path in (
        "/scan/",
        "/scan/scan.js",
        "/scan/vendor/jsQR.js",
        "/scan/labels.json",
        "/console/",
        "/console/console.js",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("/scan/", "/console/"):
        page = (await client.get(path)).text
        # Every <script> loads a file: no inline code, no handlers in attributes.
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page))
        assert not re.search(r"\son[a-z]+=", page)
        assert 'lang="zh-CN"' in page


async def test_only_the_scanner_may_ask_for_the_camera(client):
    scan = await client.get("/scan/")
    console = await client.get("/console/")
    assert "camera=(self)" in scan.headers["permissions-policy"]
    assert "camera=()" in console.headers["permissions-policy"]


async def test_labels_name_every_kind_and_field(client):
    labels = (await client.get("/scan/labels.json")).json()
    assert labels["qualification"]["fields"]["name"]["label"] == "姓名"


def test_every_verdict_is_explained_on_the_page():
    script = (SCAN_DIR / "scan.js").read_text(encoding="utf-8")
    explained = set(re.findall(r"^\s+([a-z_]+): \{ title:", script, re.M))
    assert explained == {v.value for v in Verdict}


def test_the_vendored_decoder_carries_its_licence():
    vendor = SCAN_DIR / "vendor"
    assert "Apache License" in (vendor / "jsQR.LICENSE").read_text(encoding="utf-8")
    assert (vendor / "jsQR.js").stat().st_size > 100_000
