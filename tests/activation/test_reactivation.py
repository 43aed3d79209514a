"""The authority forces re-activation of a licence over signed HTTP (DESIGN §4)."""

from __future__ import annotations

from tests.api.test_show_and_verify import VERIFY, _active_driver
from tests.conftest import CLAIM_TEMPLATE
from tests.factories import authority
from tests.holder_helpers import DEVICE, bearer, subscribe
from tests.verification.conftest import add_officer
from wallet.activation.models import Activation
from wallet.audit.models import AuditEntry
from wallet.totp import offline_code


def _url(ref: str) -> str:
    return f"/authority/v1/licences/{ref}/reactivation"


async def test_reset_ends_the_activation_and_tells_the_holder(client, rt, holder, standin):
    ref, token, activation = await _active_driver(client, rt)
    await subscribe(client, token, CLAIM_TEMPLATE)
    officer = await add_officer(client, rt, "21010007")
    offline = (
        f"{activation['offline_credential']}~"
        f"{offline_code(activation['totp']['seed'], rt.clock.timestamp())}"
    )
    before = await client.post(VERIFY, json={"qr": offline}, headers=officer.headers)
    assert before.json()["verdict"] == "valid"

    caller = await authority(client, rt)
    reset = await caller.post(_url(ref), {"reason": "设备被盗用"})
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"ref": ref, "ended": 1}

    [row] = await Activation.filter(licence__ref=ref)
    assert row.status == "authority_reset" and row.ended_at is not None
    [entry] = await AuditEntry.filter(action="activation.reset")
    assert entry.subject == ref and entry.detail["reason"] == "设备被盗用"
    assert entry.detail["activations"] == [str(row.id)]

    [message] = standin.state.messages
    assert message["touser"] == standin.state.openid("zhao")
    assert message["page"] == f"pages/licence/detail?ref={ref}"
    assert {"value": "需重新激活"} in message["data"].values()

    shown = await client.post(
        f"/api/v1/licences/{ref}/presentations", headers=bearer(token, DEVICE)
    )
    # The same answer as a licence never activated: the holder must activate first.
    assert shown.status_code == 404 and "activate it first" in shown.json()["detail"]
    after = await client.post(VERIFY, json={"qr": offline}, headers=officer.headers)
    # With no active activation there is no seed to check the code against.
    assert after.json()["verdict"] == "code_mismatch"

    again = await caller.post(_url(ref), {"reason": "再次"})
    assert again.status_code == 200 and again.json() == {"ref": ref, "ended": 0}
    assert len(standin.state.messages) == 1
    assert await AuditEntry.filter(action="activation.reset").count() == 2

    reactivated = await client.post(
        f"/api/v1/licences/{ref}/activation",
        json={"device_id": DEVICE},
        headers=bearer(token, DEVICE),
    )
    assert reactivated.status_code == 201, reactivated.text


async def test_out_of_scope_and_missing_refs_are_404(client, rt, holder, standin):
    ref, _, _ = await _active_driver(client, rt)
    dalian = await authority(client, rt, division="210200")
    outside = await dalian.post(_url(ref), {"reason": "x"})
    assert outside.status_code == 404
    missing = await dalian.post(_url("LAAAAAAAAAAAAAAAA"), {"reason": "x"})
    assert missing.status_code == 404
    assert outside.json()["code"] == missing.json()["code"]
    assert await Activation.filter(licence__ref=ref, status="active").count() == 1
    assert standin.state.messages == []
    bad = await (await authority(client, rt)).post(_url(ref), {"reason": ""})
    assert bad.status_code == 422
