"""What the verifier publishes for other provinces and offline apps: trust and status lists."""

from __future__ import annotations

from wallet import identifiers
from wallet.errors import InvalidIdentifier
from wallet.keys.trust_list import build_trust_list
from wallet.licences.models import Licence, StatusListCounter
from wallet.licences.status import effective_status
from wallet.runtime import Runtime
from wallet.verification.status_list import encode_statuses, sign_status_list

__all__ = ["signed_status_list", "signed_trust_list"]


async def signed_trust_list(runtime: Runtime) -> str:
    """The trust list JWS, signed now by the active root key."""
    return await build_trust_list(runtime.keys)


async def signed_status_list(runtime: Runtime, division: str) -> str:
    """The status list JWS of province ``division`` (``xx0000``), signed by its seal key."""
    division = identifiers.division_code(division)
    if not division.endswith("0000"):
        raise InvalidIdentifier("division", "province_level", "status lists are per province")
    counter = await StatusListCounter.get_or_none(division=division)
    size = counter.next_idx if counter else 0
    today = runtime.clock.now().date()
    rows = await Licence.filter(
        issuer_division__startswith=division[:2], status_idx__isnull=False
    ).values_list("status_idx", "status", "valid_until")
    packed = encode_statuses(
        ((int(idx), effective_status(str(status), until, today)) for idx, status, until in rows),
        size,
    )
    key = await runtime.keys.active_key("seal", division)
    return sign_status_list(
        division,
        packed,
        kid=key.kid,
        private_key=key.private_key,
        sm2=runtime.sm2,
        now=runtime.clock.timestamp(),
    )
