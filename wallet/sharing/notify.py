"""Telling the holder of each access by WeChat subscribe message.

One message per redemption, only while the holder's account has a credit for
the access template in the subscription ledger (the credit is spent in the
redemption's unit of work, the message sent after it commits). The message
names the licence kind, the party and the purpose, never a face value.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from wallet.accounts.identity import OPENID_CONTEXT
from wallet.accounts.repository import AccountRepository
from wallet.errors import WalletError
from wallet.notifications.messages import CHINA, keyword_data
from wallet.notifications.subscriptions import Subscriptions
from wallet.uow import UnitOfWork
from wallet.vault import Vault
from wallet.wechat import WeChatGateway

__all__ = ["AccessNotifier"]

log = logging.getLogger(__name__)


class AccessNotifier:
    """Sends the access message (template ``template_id``; empty: never)."""

    def __init__(
        self,
        *,
        subscriptions: Subscriptions,
        accounts: AccountRepository,
        gateway: WeChatGateway,
        vault: Vault,
        template_id: str,
        fields: Mapping[str, str],
    ) -> None:
        self.subscriptions, self.accounts = subscriptions, accounts
        self.gateway, self.vault = gateway, vault
        self.template_id, self.fields = template_id, dict(fields)

    @property
    def enabled(self) -> bool:
        return bool(self.template_id)

    async def accessed(
        self,
        uow: UnitOfWork,
        account_id: uuid.UUID,
        *,
        ref: str,
        kind_name: str,
        party_name: str,
        purpose_label: str,
        at: datetime,
    ) -> bool:
        """Spend a credit and queue the message after commit; False when none is left."""
        if not self.enabled or not await self.subscriptions.take(uow, account_id, self.template_id):
            return False
        account = await self.accounts.get(uow, account_id)
        if account is None:
            return False
        values = {
            "licence": kind_name,
            "outcome": "已被调阅",
            "note": f"{party_name}（{purpose_label}）",
            "time": at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        }
        uow.after_commit(self._send(account.openid_sealed, keyword_data(values, self.fields), ref))
        return True

    def _send(
        self, openid_sealed: str, data: dict[str, str], ref: str
    ) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            try:
                openid = self.vault.open(openid_sealed, OPENID_CONTEXT)
                await self.gateway.send_subscribe_message(
                    openid, self.template_id, data, page=f"pages/grants/index?ref={ref}"
                )
            except WalletError as exc:
                log.warning("access message for %s not sent: %s", ref, exc.type_code)

        return send
