"""Telling holders the outcome of a review, or that the authority reset a licence's
activation, by WeChat subscribe message.

Only to an account that accepted the template in the mini-program: one
credit of the subscription ledger is spent in the caller's unit of work
(:meth:`ClaimNotifier.reserve`), and the message is sent after it commits.
A failure (the user refused messages, WeChat down) is logged, never raised:
the outcome is in the listing anyway.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Final, Protocol

from wallet.accounts.identity import OPENID_CONTEXT
from wallet.errors import WalletError
from wallet.settings import DEFAULT_CLAIM_TEMPLATE_FIELDS, template_fields
from wallet.uow import UnitOfWork
from wallet.vault import Vault
from wallet.wechat import WeChatGateway

__all__ = ["ClaimNotifier"]

log = logging.getLogger(__name__)

_CHINA: Final = timezone(timedelta(hours=8))
#: WeChat's length limits by keyword type (a longer value makes the whole send fail)
_MAX_LENGTH: Final = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10}


def _fit(key: str, value: str) -> str:
    limit = _MAX_LENGTH.get(key.rstrip("0123456789"))
    return value[:limit] if limit else value


class Credits(Protocol):
    """The subscription ledger (:class:`wallet.notifications.subscriptions.Subscriptions`)."""

    async def take(self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str) -> bool: ...


class ClaimNotifier:
    """Sends the holder's subscribe messages (template ``template_id``): a claim's review,
    an activation reset by the authority."""

    def __init__(
        self,
        gateway: WeChatGateway,
        vault: Vault,
        template_id: str,
        credits: Credits,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.gateway = gateway
        self.vault = vault
        self.template_id = template_id
        self.credits = credits
        #: role (licence, outcome, note, time) → the template's keyword for it
        self.fields = dict(fields or template_fields(DEFAULT_CLAIM_TEMPLATE_FIELDS))

    async def reserve(self, uow: UnitOfWork, account_id: uuid.UUID) -> bool:
        """Spend the account's credit for this template in ``uow``; False: send nothing."""
        return await self.credits.take(uow, account_id, self.template_id)

    async def claim_reviewed(
        self,
        *,
        openid_sealed: str,
        ref: str,
        kind_name: str,
        approved: bool,
        reason: str,
        at: datetime,
    ) -> None:
        """Tell the claimer the licence, the outcome, a note and the time (``fields``' keys)."""
        note = "可激活使用" if approved else (reason or "请重新申领")
        values = {
            "licence": kind_name,
            "outcome": "审核通过" if approved else "审核未通过",
            "note": note,
            "time": at.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M"),
        }
        data = {key: _fit(key, values[role]) for role, key in self.fields.items()}
        try:
            openid = self.vault.open(openid_sealed, OPENID_CONTEXT)
            await self.gateway.send_subscribe_message(
                openid, self.template_id, data, page=f"pages/licence/detail?ref={ref}"
            )
        except WalletError as exc:
            log.warning("claim review message for %s not sent: %s", ref, exc.type_code)

    async def reactivation_required(
        self, *, openid_sealed: str, ref: str, kind_name: str, reason: str, at: datetime
    ) -> None:
        """Tell the holder that the authority ended the licence's activation (same template:
        the licence, ``需重新激活``, the reason, the time)."""
        values = {
            "licence": kind_name,
            "outcome": "需重新激活",
            "note": reason or "请重新激活",
            "time": at.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M"),
        }
        data = {key: _fit(key, values[role]) for role, key in self.fields.items()}
        try:
            openid = self.vault.open(openid_sealed, OPENID_CONTEXT)
            await self.gateway.send_subscribe_message(
                openid, self.template_id, data, page=f"pages/licence/detail?ref={ref}"
            )
        except WalletError as exc:
            log.warning("reactivation message for %s not sent: %s", ref, exc.type_code)
