"""Telling holders the outcome of a review, by WeChat subscribe message.

Sent after the review commits; a failure (the user refused messages,
WeChat down) is logged, never raised: the outcome is in the listing anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Final

from wallet.accounts.identity import OPENID_CONTEXT
from wallet.errors import WalletError
from wallet.vault import Vault
from wallet.wechat import WeChatGateway

__all__ = ["ClaimNotifier"]

log = logging.getLogger(__name__)

_CHINA: Final = timezone(timedelta(hours=8))
_THING_MAX: Final = 20  # WeChat's limit for `thing` values


class ClaimNotifier:
    """Sends the claim-review subscribe message (template ``template_id``)."""

    def __init__(self, gateway: WeChatGateway, vault: Vault, template_id: str) -> None:
        self.gateway = gateway
        self.vault = vault
        self.template_id = template_id

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
        """Tell the claimer: ``thing1`` licence, ``phrase2`` outcome, ``thing3`` note, ``time4``."""
        note = "可激活使用" if approved else (reason or "请重新申领")
        data = {
            "thing1": kind_name[:_THING_MAX],
            "phrase2": "审核通过" if approved else "审核未通过",
            "thing3": note[:_THING_MAX],
            "time4": at.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M"),
        }
        try:
            openid = self.vault.open(openid_sealed, OPENID_CONTEXT)
            await self.gateway.send_subscribe_message(
                openid, self.template_id, data, page=f"pages/licence/detail?ref={ref}"
            )
        except WalletError as exc:
            log.warning("claim review message for %s not sent: %s", ref, exc.type_code)
