"""The presentation endpoint's one-statement path: whatever another process commits
(a key rotation or revocation, an ended activation) the very next QR sees."""

from __future__ import annotations

import pytest

from tests.api.test_show_and_verify import _active_driver
from tests.factories import committing
from tests.holder_helpers import DEVICE, bearer, sign_in
from wallet import jws
from wallet.errors import NotFound
from wallet.keys import KeyStore


def _another_process(rt) -> KeyStore:
    """A key store with memory of its own, as in another worker or the `wallet keys` command."""
    return KeyStore(rt.master_key, rt.sm2, rt.clock)


async def _show(client, ref, token, device=DEVICE):
    return await client.post(f"/api/v1/licences/{ref}/presentations", headers=bearer(token, device))


async def test_rotation_and_revocation_elsewhere_take_effect_at_the_next_qr(client, rt, holder):
    ref, token, _ = await _active_driver(client, rt)
    first = await _show(client, ref, token)
    assert first.status_code == 201, first.text
    old_kid = jws.decode(first.json()["qr"]).kid

    other = _another_process(rt)
    rotated = await committing(other.rotate)("presentation")
    second = await _show(client, ref, token)
    assert second.status_code == 201
    assert jws.decode(second.json()["qr"]).kid == rotated.kid != old_kid

    await committing(other.revoke)(rotated.kid, "compromised")
    refused = await _show(client, ref, token)
    assert refused.status_code == 404, refused.text  # the slot is empty: nothing signs
    assert "rotate" in refused.json()["detail"]

    fresh = await committing(other.rotate)("presentation")
    third = await _show(client, ref, token)
    assert third.status_code == 201
    assert jws.decode(third.json()["qr"]).kid == fresh.kid


async def test_a_revoked_key_never_signs_even_when_remembered(rt):
    store = _another_process(rt)
    await committing(store.init)([])
    key = await committing(store.active_key)("presentation")
    assert (await committing(store.active_key_read)(key.kid, "presentation")) == key
    await committing(_another_process(rt).revoke)(key.kid, "compromised")
    # The caller's own statement now reads no active kid: the remembered key is not used.
    with pytest.raises(NotFound, match="rotate"):
        await committing(store.active_key_read)(None, "presentation")
    assert KeyStore.slot("presentation") == "presentation:"


async def test_an_ended_activation_is_refused_at_once(client, rt, holder):
    ref, token, _ = await _active_driver(client, rt)
    assert (await _show(client, ref, token)).status_code == 201
    ended = await client.delete(f"/api/v1/licences/{ref}/activation", headers=bearer(token, DEVICE))
    assert ended.status_code in (200, 204), ended.text
    assert (await _show(client, ref, token)).status_code == 404


async def test_session_and_device_checks_come_first(client, rt, holder):
    ref, token, _ = await _active_driver(client, rt)
    assert (await _show(client, ref, "x" * 43)).status_code == 401
    assert (await _show(client, ref, token, "bad device!")).status_code == 422
    assert (await _show(client, ref, token, "another_device_0001")).status_code == 403
    stranger = await sign_in(client, "sun")
    assert (await _show(client, ref, stranger)).status_code == 404
    bad = await client.post(
        f"/api/v1/licences/{ref}/presentations?lifetime=5", headers=bearer(token, DEVICE)
    )
    assert bad.status_code == 422
