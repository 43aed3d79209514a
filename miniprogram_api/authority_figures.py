"""Authority API (``/authority/v1/figures``): the four operating rates of the client's area."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation, json_response, parse_query
from miniprogram_api.authority import authenticated_client
from wallet.figures.schemas import FiguresOut, FiguresQuery
from wallet.licences.search import division_scope
from wallet.runtime import Runtime
from wallet.uow import read_only

__all__ = ["operations"]


async def get_figures(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    client, _ = await authenticated_client(request, runtime, 0)
    query = parse_query(request, FiguresQuery)
    async with read_only() as uow:
        report = await runtime.figures.report(
            uow,
            division=query.division or client.division,
            period=query.period,
            scope=division_scope(client.division),
        )
    return json_response(report)


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            "/authority/v1/figures",
            get_figures,
            "Issuance, activation, data-compliance and aggregation rates",
            "制证率 (issued / valid licences), 激活率 (activated / issued), 数据合规率 "
            "(versions passing every compliance rule / versions) and 归集率 (issued licences "
            "whose latest change the ministry acknowledged / issued), per county with their "
            "cities and provinces, with the counts behind each rate. `division` defaults to "
            "the client's own and must lie inside it (403 otherwise); `period` restricts the "
            "figures to licences (versions) first recorded in a year, quarter or month, "
            "China time. The exact definitions are in the README's Figures section.",
            ("authority",),
            response_model=FiguresOut,
            errors=(401, 403, 422),
            security="authority",
            query_model=FiguresQuery,
        ),
    ]
