"""Holder API (``/api/v1/subscriptions``): the subscribe messages the user accepted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, parse_body
from miniprogram_api.holder_auth import holder_session, runtime_of
from wallet.notifications.schemas import SubscriptionsIn
from wallet.uow import unit_of_work

__all__ = ["operations"]


async def record_subscriptions(request: Request) -> Response:
    session = await holder_session(request)
    body = await parse_body(request, SubscriptionsIn, 4096)
    async with unit_of_work() as uow:
        await runtime_of(request).subscriptions.record(uow, session.account_id, body.accepted)
    return Response(status_code=204)


def operations() -> list[Operation]:
    tags = ("holder: notifications",)
    return [
        Operation(
            "POST",
            "/api/v1/subscriptions",
            record_subscriptions,
            "Record the subscribe messages the user accepted",
            "Send the template ids `wx.requestSubscribeMessage` answered `accept` for, "
            "right after it answers. Each acceptance lets the backend send one message of "
            "that template (licence status changes, new versions, expiry reminders, claim "
            "reviews); without one, nothing is sent. Ids of templates the backend does not "
            "send are ignored.",
            tags,
            SubscriptionsIn,
            None,
            204,
            (422,),
            security="holder",
        ),
    ]
