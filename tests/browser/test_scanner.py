"""The inspector's scanner (/scan/) in Chromium: sign-in, paste, camera, verdicts."""

from __future__ import annotations

import re

import httpx

from tests.browser.conftest import DESKTOP, PHONE, launch, screenshot_path
from tests.browser.seed import BADGE, ENFORCEMENT_DEVICE, PASSWORD, Seeded, seed
from tests.browser.video import qr_frame, write_y4m

GREEN, RED = "rgb(27, 127, 59)", "rgb(198, 40, 40)"


async def _approved_and_active(client: httpx.AsyncClient, rt) -> Seeded:
    seeded = await seed(client, rt)
    approved = await seeded.caller.call("POST", f"/authority/v1/claims/{seeded.claim_id}/approve")
    assert approved.status_code == 200, approved.text
    await seeded.activate(client)
    return seeded


async def _sign_in(page, base_url: str) -> None:
    await page.goto(f"{base_url}/scan/")
    await page.fill("#badge", BADGE)
    await page.fill("#password", PASSWORD)
    await page.fill("#device", ENFORCEMENT_DEVICE)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#scanner:not([hidden])")


async def _verdict(page, expected: str) -> str:
    await page.wait_for_selector(f"#verdict[data-verdict={expected}]")
    return str(await page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor"))


async def test_officer_pastes_a_qr_sees_valid_then_suspended_in_red(
    client, rt, holder, browser, base_url
):
    seeded = await _approved_and_active(client, rt)
    qr = await seeded.qr(client)
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(f"{base_url}/scan/")
    await page.screenshot(path=screenshot_path("scan-sign-in-phone"), full_page=True)
    await _sign_in(page, base_url)

    await page.fill("#qr", qr)
    await page.click("#verify")
    assert await _verdict(page, "valid") == GREEN
    assert await page.text_content("#verdict-title") == "有效"
    assert "放行" in (await page.text_content("#verdict-action") or "")
    # The face (the ID number masked for an inspector) and the approved photo.
    face = await page.text_content("#face") or ""
    number = seeded.face["certificate_number"]
    assert seeded.face["name"] in face and number not in face and number[:4] in face
    await page.wait_for_selector("#photo:not([hidden])")
    assert await page.eval_on_selector("#photo", "e => e.naturalWidth") > 0
    assert re.search(
        r"状态核查时间：[0-9-]+ [0-9:]+（[0-9]+ 秒前）", await page.text_content("#checked")
    )
    await page.screenshot(path=screenshot_path("scan-valid-phone"), full_page=True)
    assert "?" not in page.url and qr not in page.url

    await seeded.status("suspend")
    await page.fill("#qr", qr)
    await page.click("#verify")
    assert await _verdict(page, "suspended") == RED
    assert await page.text_content("#verdict-title") == "已暂扣"
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=screenshot_path("scan-suspended-desktop"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("scan-suspended-phone"), full_page=True)
    assert errors == []
    await context.close()


async def test_camera_scans_a_rendered_qr(client, rt, holder, playwright, base_url, tmp_path):
    seeded = await _approved_and_active(client, rt)
    video = write_y4m(tmp_path / "qr.y4m", qr_frame(await seeded.qr(client)))
    camera = await launch(
        playwright,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = await camera.new_context(viewport=PHONE, permissions=["camera"])
        page = await context.new_page()
        await _sign_in(page, base_url)
        await page.click("#camera-start")
        assert await _verdict(page, "valid") == GREEN
        # The camera is closed once a code is read.
        assert await page.is_hidden("#camera-box")
        await page.screenshot(path=screenshot_path("scan-camera-valid-phone"), full_page=True)
    finally:
        await camera.close()


async def test_a_bad_password_is_refused_in_words(client, rt, holder, browser, base_url):
    await seed(client, rt)
    page = await browser.new_page(viewport=DESKTOP)
    await page.goto(f"{base_url}/scan/")
    await page.fill("#badge", BADGE)
    await page.fill("#password", "wrong password")
    await page.fill("#device", ENFORCEMENT_DEVICE)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#sign-in-error:not([hidden])")
    assert "不正确" in (await page.text_content("#sign-in-error") or "")
    assert await page.is_hidden("#scanner")
    await page.screenshot(path=screenshot_path("scan-sign-in-refused-desktop"), full_page=True)
    await page.close()
