"""Operations: a route together with what the OpenAPI document says of it.

Each endpoint is declared once as an :class:`Operation` (method, path,
handler, request and response models, errors); ``route`` turns it into a
Starlette route and ``build_openapi`` into the document served at
``/openapi.json``, so the document cannot drift from the routes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from httpkit.params import Param, check_path_params, query_params
from httpkit.responses import JSONResponse
from wallet.errors import ValidationFailed, WalletError

__all__ = [
    "Operation",
    "Param",
    "build_openapi",
    "json_response",
    "openapi_route",
    "parse_body",
    "parse_json",
    "parse_query",
    "read_body",
    "route",
]

Handler = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_BODY = 64 * 1024
_CONVERTOR = re.compile(r"{(\w+):\w+}")
_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


class PayloadTooLarge(WalletError):
    type_code = "payload_too_large"
    status = 413
    title = "Request body too large"


class UnsupportedMediaType(WalletError):
    type_code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class MalformedJSON(WalletError):
    type_code = "malformed_json"
    status = 400
    title = "The body is not valid JSON"


@dataclass(frozen=True)
class Operation:
    """One endpoint, for the routes and for the document.

    ``cache_control`` is sent on every answer that does not set its own:
    ``no-store`` by default, since most answers carry a token, a secret or
    personal data; only public documents (the trust list, status lists)
    opt out with None. Every path parameter is declared in ``params`` with
    its bounds (checked before the handler runs); ``query_model`` is the
    model the handler parses the query with, and declares its parameters.
    """

    method: str
    path: str
    handler: Handler
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    security: str | None = None
    response_media_type: str = "application/json"
    cache_control: str | None = "no-store"
    query_model: type[BaseModel] | None = None
    #: other success statuses with the same body (e.g. 200 beside 201 for an idempotent repeat)
    also_status: tuple[int, ...] = ()
    conditional: bool = False
    """Answers an ``ETag`` and 304 (no body) to a current ``If-None-Match``."""
    #: other media types of the success answer (e.g. a rendered image beside the JSON)
    also_media_types: tuple[str, ...] = ()
    #: the success answer's schema when it is not a model (a JWS string, an image)
    response_schema: dict[str, Any] | None = None
    #: other forms of the request body beside JSON, by media type (e.g. a multipart upload)
    also_request_bodies: tuple[tuple[str, dict[str, Any]], ...] = ()
    #: uses the database or the cache, so answers 503 (naming it) while one is down
    outages: bool = True

    def all_params(self) -> list[Param]:
        """Declared path parameters, then the query model's parameters."""
        query = query_params(self.query_model) if self.query_model is not None else []
        return [*self.params, *query]


def _with_cache_control(handler: Handler, value: str) -> Handler:
    @functools.wraps(handler)
    async def cached_as_declared(request: Request) -> Response:
        response = await handler(request)
        response.headers.setdefault("cache-control", value)
        return response

    return cached_as_declared


def _with_path_check(handler: Handler, params: dict[str, Param]) -> Handler:
    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        check_path_params(request, params)
        return await handler(request)

    return checked


def route(op: Operation) -> Route:
    """The Starlette route of ``op`` (path parameters checked, with its ``Cache-Control``)."""
    declared = {p.name: p for p in op.params if p.where == "path"}
    if set(declared) != set(_PATH_PARAM.findall(op.path)):
        raise ValueError(f"{op.method} {op.path}: declare every path parameter, and only those")
    for param in declared.values():
        param.bounded()
    handler = op.handler
    if declared:
        handler = _with_path_check(handler, declared)
    if op.cache_control is not None:
        handler = _with_cache_control(handler, op.cache_control)
    return Route(op.path, handler, methods=[op.method], name=op.handler.__name__)


def _validation_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    # Never echo the input: a rejected value may be personal data.
    return [
        {
            "field": prefix + ".".join(str(p) for p in err["loc"])
            if err["loc"]
            else prefix or "body",
            "rule": err["type"],
            "message": err["msg"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def read_body(request: Request, max_bytes: int = DEFAULT_MAX_BODY) -> bytes:
    """The raw body, at most ``max_bytes`` (413 beyond); later reads reuse it."""
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):
        return cached
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"at most {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"at most {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's own cache: stream() and body() now replay it
    return body


def parse_json(raw: bytes, model: type[M]) -> M:
    """JSON bytes into ``model``; 400 for bad JSON, 422 listing every invalid field."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedJSON() from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors=_validation_errors(exc)) from None


async def parse_body(request: Request, model: type[M], max_bytes: int = DEFAULT_MAX_BODY) -> M:
    """Read a JSON body into ``model``; 413, 415, 400 or 422 problems otherwise."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json")
    return parse_json(await read_body(request, max_bytes), model)


def parse_query(request: Request, model: type[M]) -> M:
    """Query parameters into ``model``; 422 with the offending parameter otherwise."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise ValidationFailed(errors=_validation_errors(exc, "query.")) from None


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, match on it.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "examples": ["validation_failed"]},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "dependency": {
            "type": "string",
            "description": "503 only: the dependency that is down (`database`, `cache`, ...)",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_SECURITY_SCHEMES: dict[str, Any] = {
    "holder": {
        "type": "http",
        "scheme": "bearer",
        "description": "Session token from POST /api/v1/session",
    },
    "officer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Officer token from POST /verifier/v1/session",
    },
    "authority": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Client-Id",
        "description": "Signed server-to-server request (see the README)",
    },
    "console": {
        "type": "apiKey",
        "in": "cookie",
        "name": "rtel_console",
        "description": "Console session cookie from POST /console/api/session; state-changing "
        "requests also send X-CSRF-Token",
    },
    "party": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Client-Id",
        "description": "A relying party's signed request, signed as an authority request is "
        "(see the README); X-Client-Id is its party id",
    },
}


def _component_refs(node: Any) -> Any:
    # Pydantic resolves every "$ref" it meets against its own models, so a model's extra
    # schema names another component as {"x-component": NAME}; it becomes a $ref here.
    if isinstance(node, dict):
        if set(node) == {"x-component"}:
            return {"$ref": f"#/components/schemas/{node['x-component']}"}
        return {k: _component_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_component_refs(v) for v in node]
    return node


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = _component_refs(model.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _media_schema(media_type: str) -> dict[str, Any]:
    """A body that is not JSON: text (SVG) or bytes (PNG, JPEG)."""
    if media_type.startswith("image/") and not media_type.endswith("+xml"):
        return {"type": "string", "contentMediaType": media_type, "contentEncoding": "binary"}
    return {"type": "string", "contentMediaType": media_type}


def build_openapi(
    title: str,
    version: str,
    operations: Sequence[Operation],
    description: str = "",
    schemas: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``, with ``schemas`` among its components."""
    components: dict[str, Any] = {"Problem": _PROBLEM_SCHEMA, **(schemas or {})}
    paths: dict[str, Any] = {}
    for op in operations:
        item: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.handler.__name__,
            "tags": list(op.tags),
            "responses": {},
        }
        if op.description:
            item["description"] = op.description
        params = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.all_params()
        ]
        if params:
            item["parameters"] = params
        if op.request_model is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": _schema_ref(op.request_model, components)},
                    **{media: {"schema": schema} for media, schema in op.also_request_bodies},
                },
            }
        ok: dict[str, Any] = {"description": "Success"}
        if op.response_model is not None:
            ok["content"] = {
                op.response_media_type: {"schema": _schema_ref(op.response_model, components)}
            }
        elif op.response_schema is not None:
            ok["content"] = {op.response_media_type: {"schema": op.response_schema}}
        for media_type in op.also_media_types:
            ok.setdefault("content", {})[media_type] = {"schema": _media_schema(media_type)}
        for status in (op.status, *op.also_status):
            item["responses"][str(status)] = ok
        if op.conditional:
            item["responses"]["304"] = {
                "description": "Not modified: the `If-None-Match` tag is the current `ETag`"
            }
        errors = set(op.errors)
        if op.request_model is not None:
            errors |= {400, 413, 415, 422}
        errors |= {p.missing.status if p.missing else 422 for p in op.params}
        if op.query_model is not None:
            errors |= {422}
        if op.outages:
            errors |= {503}
        if op.security:
            item["security"] = [{op.security: []}]
            errors |= {401}
        for status in sorted(errors):
            item["responses"][str(status)] = {
                "description": "Problem",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        paths.setdefault(_CONVERTOR.sub(r"{\1}", op.path), {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY_SCHEMES},
    }


def openapi_route(path: str, document: Callable[[], dict[str, Any]]) -> Route:
    """A route serving ``document()`` (built once, on first request)."""
    cache: dict[str, bytes] = {}

    async def openapi(request: Request) -> Response:
        if "doc" not in cache:
            cache["doc"] = orjson.dumps(document())
        return Response(cache["doc"], media_type="application/json")

    return Route(path, openapi, methods=["GET"], include_in_schema=False)


def json_response(content: BaseModel | Any, status: int = 200) -> JSONResponse:
    """A JSON response of a pydantic model (dumped in JSON mode) or plain data."""
    if isinstance(content, BaseModel):
        content = content.model_dump(mode="json")
    return JSONResponse(content, status_code=status)
