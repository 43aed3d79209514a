"""Liveness and readiness probes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from httpkit.operations import Operation
from httpkit.responses import JSONResponse
from wallet.runtime import Runtime

__all__ = ["health_operations"]


async def healthz(request: Request) -> Response:
    """Alive: the process answers. Touches no dependency."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready: the database and the cache answer; 503 naming what does not."""
    runtime: Runtime = request.state.runtime
    checks = await runtime.readiness()
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


def health_operations(prefix: str = "") -> list[Operation]:
    return [
        Operation(
            "GET",
            f"{prefix}/healthz",
            healthz,
            "Liveness probe",
            tags=("operations",),
            outages=False,
            response_schema={
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"const": "ok"}},
            },
        ),
        Operation(
            "GET",
            f"{prefix}/readyz",
            readyz,
            "Readiness probe (database and cache)",
            description=(
                "200 when every dependency answers; 503 with the same body, `status`"
                " `unavailable` and `checks` naming what does not (not a problem document:"
                " probes read `checks`)."
            ),
            tags=("operations",),
            response_schema={
                "type": "object",
                "required": ["status", "checks"],
                "properties": {
                    "status": {"enum": ["ok", "unavailable"]},
                    "checks": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            # The 503 is this same JSON body, declared as such; it is not the outage
            # problem+json other operations answer, so outages are not declared.
            also_status=(503,),
            outages=False,
        ),
    ]
