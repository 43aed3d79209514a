"""What crosses the boundary of notifications: the mini-program's acceptances, the status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from wallet.notifications.subscriptions import MAX_ACCEPTED
from wallet.schemas import StrictIn

__all__ = ["FailedNotification", "NotifierStatus", "SubscriptionsIn"]

TemplateId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class SubscriptionsIn(StrictIn):
    """The template ids the user accepted in ``wx.requestSubscribeMessage`` (each ``accept``)."""

    accepted: list[TemplateId] = Field(
        min_length=1, max_length=MAX_ACCEPTED, examples=[["tmpl-status-change"]]
    )


class FailedNotification(BaseModel):
    """A notification given up on, with why."""

    id: int
    kind: str
    licence_ref: str
    attempts: int
    last_error: str
    updated_at: datetime


class NotifierStatus(BaseModel):
    """The notifier's position in the outbox, its backlog and its failures."""

    cursor: int
    outbox_head: int
    backlog: int
    states: dict[str, int]
    oldest_due: datetime | None
    failures: list[FailedNotification]
