"""The HTTP edge shared by both deployables: problem responses, operations and
their OpenAPI document, body parsing, health probes and request logging.

``wallet`` (the domain core) never imports Starlette; this package is where
its errors become HTTP.
"""

from httpkit.operations import Operation, build_openapi, openapi_route, parse_body, route
from httpkit.problem import exception_handlers, problem_response
from httpkit.responses import JSONResponse

__all__ = [
    "JSONResponse",
    "Operation",
    "build_openapi",
    "exception_handlers",
    "openapi_route",
    "parse_body",
    "problem_response",
    "route",
]
