"""One file out of a ``multipart/form-data`` body, streamed and bounded.

``wx.uploadFile`` sends a file as a multipart part named by its ``name``
option, beside optional ``formData`` text fields. :func:`read_upload`
parses the body as it arrives (python-multipart's streaming parser): the
declared ``Content-Length`` is checked first, and the file part's bytes are
counted as they come, so a body past the limit is refused (413) without
being read whole. Other parts are refused (422), as a JSON body's unknown
fields are.
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from httpkit.operations import PayloadTooLarge, UnsupportedMediaType
from wallet.errors import ValidationFailed, WalletError

__all__ = ["MULTIPART", "MalformedMultipart", "is_multipart", "read_upload"]

MULTIPART = "multipart/form-data"
#: room for the part headers, the boundaries and small formData fields
_OVERHEAD = 16 * 1024


class MalformedMultipart(WalletError):
    type_code = "malformed_multipart"
    status = 400
    title = "The body is not valid multipart/form-data"


def is_multipart(request: Request) -> bool:
    """True when the request says its body is ``multipart/form-data``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == MULTIPART


class _Upload:
    """Callbacks of the streaming parser: collects the one expected file part."""

    def __init__(self, field: str, max_bytes: int) -> None:
        self.field, self.max_bytes = field, max_bytes
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.current: bytearray | None = None
        self.file: bytes | None = None
        self.problem: WalletError | None = None

    def on_part_begin(self) -> None:
        self.disposition = b""
        self.current = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != self.field:
            message = f"only the file part `{self.field}` is accepted"
            self.problem = self.problem or ValidationFailed(
                errors=[{"field": name or "body", "rule": "extra_forbidden", "message": message}]
            )
        elif self.file is not None:
            self.problem = self.problem or ValidationFailed(
                errors=[{"field": self.field, "rule": "duplicate", "message": "send one file"}]
            )
        else:
            self.current = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is None:
            return
        self.current += data[start:end]
        if len(self.current) > self.max_bytes:
            self.problem = PayloadTooLarge(f"the file is at most {self.max_bytes} bytes")

    def on_part_end(self) -> None:
        if self.current is not None:
            self.file, self.current = bytes(self.current), None


async def read_upload(request: Request, field: str, max_bytes: int) -> bytes:
    """The bytes of file part ``field`` (at most ``max_bytes``), read as the body streams.

    415 unless the body is ``multipart/form-data`` with a boundary; 413 when
    the declared length or the file passes the limit (checked while reading);
    400 for a malformed body; 422 for any other part, or an empty or missing ``field``.
    """
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if ctype != MULTIPART.encode() or not boundary:
        raise UnsupportedMediaType(f"send the file as {MULTIPART} with a boundary")
    limit = max_bytes + _OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the file is at most {max_bytes} bytes")
    upload = _Upload(field, max_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": upload.on_part_begin,
            "on_header_field": upload.on_header_field,
            "on_header_value": upload.on_header_value,
            "on_header_end": upload.on_header_end,
            "on_headers_finished": upload.on_headers_finished,
            "on_part_data": upload.on_part_data,
            "on_part_end": upload.on_part_end,
        },
    )
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the file is at most {max_bytes} bytes")
            parser.write(chunk)
            if upload.problem is not None:
                raise upload.problem
        parser.finalize()
    except MultipartParseError:
        raise MalformedMultipart() from None
    if upload.problem is not None:
        raise upload.problem
    if upload.current is not None:
        raise MalformedMultipart("the body ends inside a part")
    if upload.file is None:
        if size == 0:
            raise MalformedMultipart("the body is empty")
        raise ValidationFailed(
            errors=[{"field": field, "rule": "missing", "message": "the file part is missing"}]
        )
    if not upload.file:
        raise ValidationFailed(
            errors=[{"field": field, "rule": "min_length", "message": "the file is empty"}]
        )
    return upload.file
