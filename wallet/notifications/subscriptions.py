"""The subscription ledger: which subscribe messages each account may still receive.

WeChat delivers a one-time subscribe message only after the user accepted
its template in the mini-program (``wx.requestSubscribeMessage``), one
message per acceptance. :meth:`Subscriptions.record` counts acceptances,
:meth:`Subscriptions.take` spends one in the sender's unit of work: a
sender that gets False does not send.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Collection, Sequence
from typing import Final

from wallet.clock import Clock
from wallet.errors import FieldProblem, ValidationFailed
from wallet.notifications.repository import SubscriptionRepository
from wallet.uow import UnitOfWork

__all__ = ["MAX_ACCEPTED", "MAX_CREDITS", "TEMPLATE_ID", "Subscriptions"]

log = logging.getLogger(__name__)

TEMPLATE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A WeChat template id: ASCII letters, digits, ``_`` and ``-``, at most 64."""
MAX_ACCEPTED: Final = 20
"""Template ids one acceptance may carry."""
MAX_CREDITS: Final = 100
"""Credits kept per account and template: more acceptances are not counted."""


class Subscriptions:
    """Credits per (account, template) for the templates this deployment sends."""

    def __init__(
        self, repository: SubscriptionRepository, clock: Clock, templates: Collection[str]
    ) -> None:
        self.repository = repository
        self.clock = clock
        #: the template ids configured for sending; acceptances of others are not kept
        self.templates = frozenset(t for t in templates if t)

    async def record(self, uow: UnitOfWork, account_id: uuid.UUID, accepted: Sequence[str]) -> None:
        """One credit more per accepted template id (each counted once per call).

        Ids must be ASCII (:data:`TEMPLATE_ID`), at most :data:`MAX_ACCEPTED`
        of them, else :class:`ValidationFailed`. Ids of templates this
        deployment does not send are ignored: they would never be spent.
        """
        check_accepted(accepted)
        now = self.clock.now()
        for template_id in dict.fromkeys(accepted):
            if template_id not in self.templates:
                log.info("subscription to unconfigured template %s ignored", template_id)
                continue
            await self.repository.add_credit(uow, account_id, template_id, now, MAX_CREDITS)

    async def take(self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str) -> bool:
        """Spend one credit of (account, template) atomically; False when there is none."""
        return await self.repository.spend_credit(uow, account_id, template_id, self.clock.now())

    async def credits(self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str) -> int:
        """Credits left for (account, template)."""
        return await self.repository.credits(uow, account_id, template_id)


def check_accepted(accepted: Sequence[str]) -> None:
    """Raise :class:`ValidationFailed` unless ``accepted`` is a bounded list of ASCII ids."""
    if isinstance(accepted, str) or len(accepted) > MAX_ACCEPTED:
        raise ValidationFailed(
            errors=[
                {
                    "field": "accepted",
                    "rule": "max_items",
                    "message": f"at most {MAX_ACCEPTED} template ids",
                }
            ]
        )
    problems: list[FieldProblem] = [
        {"field": f"accepted.{i}", "rule": "pattern", "message": "not a template id"}
        for i, item in enumerate(accepted)
        if not isinstance(item, str) or not TEMPLATE_ID.fullmatch(item)
    ]
    if problems:
        raise ValidationFailed(errors=problems)
