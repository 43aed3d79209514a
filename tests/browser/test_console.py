"""The authority's console (/console/) in Chromium: sign-in, photo review, licence pages."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, PHONE, screenshot_path
from tests.browser.seed import seed
from tests.factories import committing
from tests.verification.conftest import add_officer
from wallet.audit.models import AuditEntry

PASSWORD = "reviewer password 2026"


async def _user(rt, username: str = "reviewer.li", role: str = "reviewer") -> None:
    await committing(rt.console.add)(
        username=username, name="李审核", division="210000", role=role, password=PASSWORD
    )


async def _sign_in(page, base_url: str, username: str = "reviewer.li") -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#nav:not([hidden])")


async def test_a_reviewer_approves_a_pending_photo_and_the_claim_turns_approved(
    client, rt, holder, browser, base_url
):
    seeded = await seed(client, rt, officer=False)
    await _user(rt)
    assert await seeded.holder_state(client) == "pending_review"
    page = await browser.new_page(viewport=DESKTOP)
    await page.goto(f"{base_url}/console/")
    await page.screenshot(path=screenshot_path("console-sign-in-desktop"), full_page=True)
    await _sign_in(page, base_url)

    item = f"#queue li[data-claim='{seeded.claim_id}']"
    await page.wait_for_selector(item)
    await page.wait_for_selector(f"#claim[data-claim='{seeded.claim_id}']")
    # The uploaded photo beside the registry's face, masked for a reviewer.
    await page.wait_for_function("() => document.getElementById('claim-photo').naturalWidth > 0")
    await page.wait_for_selector("#claim-face dd")
    face = await page.text_content("#claim-face") or ""
    assert "姓名" in face and seeded.face["certificate_number"] not in face
    assert seeded.face["name"] not in face and seeded.face["name"][0] in face
    await page.screenshot(path=screenshot_path("console-review-desktop"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("console-review-phone"), full_page=True)
    await page.set_viewport_size(DESKTOP)

    await page.keyboard.press("a")  # approve, from the keyboard
    await page.wait_for_selector(item, state="detached")
    assert "已通过" in (await page.text_content("#queue-empty") or "")
    assert await seeded.holder_state(client) == "approved"
    [entry] = await AuditEntry.filter(action="claim.approve")
    assert entry.actor == "console:reviewer.li"
    await page.close()


async def test_a_reviewer_rejects_with_a_reason_from_the_keyboard(
    client, rt, holder, browser, base_url
):
    seeded = await seed(client, rt, officer=False)
    await _user(rt)
    page = await browser.new_page(viewport=DESKTOP)
    await _sign_in(page, base_url)
    await page.wait_for_selector(f"#claim[data-claim='{seeded.claim_id}']")
    await page.keyboard.press("r")
    await page.wait_for_selector("#reject-form:not([hidden])")
    await page.keyboard.type("照片不清晰，请重新上传")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f"#queue li[data-claim='{seeded.claim_id}']", state="detached")
    assert await seeded.holder_state(client) == "rejected"
    await page.close()


async def test_a_supervisor_finds_a_licence_checks_its_seal_and_suspends_it(
    client, rt, holder, browser, base_url
):
    seeded = await seed(client, rt, officer=False)
    await _user(rt, "chief.wang", "supervisor")
    # An officer has scanned the licence: the page shows it in the verification log.
    approved = await seeded.caller.call("POST", f"/authority/v1/claims/{seeded.claim_id}/approve")
    assert approved.status_code == 200, approved.text
    await seeded.activate(client)
    officer = await add_officer(client, rt, "21010009", device="ENF-DEVICE-0009")
    scanned = await client.post(
        "/verifier/v1/verifications", json={"qr": await seeded.qr(client)}, headers=officer.headers
    )
    assert scanned.json()["verdict"] == "valid"
    page = await browser.new_page(viewport=DESKTOP)
    await _sign_in(page, base_url, "chief.wang")
    await page.click("nav [data-view=search]")
    await page.select_option("#search-field", "id_number")
    await page.fill("#search-value", seeded.face["certificate_number"])
    await page.click("#search-form button[type=submit]")
    await page.wait_for_selector(f"#licence[data-ref='{seeded.ref}']")
    assert "?" not in page.url and seeded.face["certificate_number"] not in page.url
    assert await page.text_content("#versions .seal-valid") == "✓ 有效"
    assert "21010009" in (await page.text_content("#verifications") or "")
    # A supervisor sees the face unmasked.
    assert seeded.face["certificate_number"] in (await page.text_content("#licence-face") or "")

    await page.select_option("#status-action", "suspend")
    await page.fill("#status-reason", "路检发现证件被涂改")
    await page.click("#status-form button[type=submit]")
    await page.wait_for_selector("#status-confirm:not([hidden])")
    await page.screenshot(path=screenshot_path("console-licence-confirm-desktop"), full_page=True)
    await page.click("#status-confirm-yes")
    await page.wait_for_selector("#licence-status[data-status=suspended]")
    assert "路检发现证件被涂改" in (await page.text_content("#history") or "")
    await page.screenshot(path=screenshot_path("console-licence-desktop"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("console-licence-phone"), full_page=True)
    [entry] = await AuditEntry.filter(action="licence.suspend")
    assert entry.actor == "console:chief.wang"
    await page.close()


async def test_the_figures_are_charted_month_by_month_with_the_numbers_beside(
    client, rt, holder, browser, base_url
):
    await seed(client, rt, officer=False)
    await _user(rt)
    page = await browser.new_page(viewport=DESKTOP)
    await _sign_in(page, base_url)
    await page.click("nav [data-view=figures]")
    await page.wait_for_selector("#overall tbody tr")
    # One licence recorded this month: its rates are plotted (four series) and tabled.
    await page.wait_for_selector("#chart circle")
    assert await page.eval_on_selector_all("#chart path.line", "e => e.length") >= 1
    assert await page.eval_on_selector_all("#monthly tbody tr", "e => e.length") == 12
    overall = await page.text_content("#overall tbody tr.level-province") or ""
    assert overall.startswith("210000") and "省" in overall
    await page.select_option("#figures-division", "210102")
    await page.wait_for_selector("#overall tbody tr.level-county")
    await page.screenshot(path=screenshot_path("console-figures-desktop"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("console-figures-phone"), full_page=True)
    await page.close()
