"""A local stand-in of the ministry's aggregation endpoint, for development and tests.

It serves ``POST /ministry/v1/batches`` (the default ``WALLET_MINISTRY_URL``)
over real HTTP (stdlib ``http.server``, one thread per request) and checks
each batch as the ministry would: the ``Idempotency-Key`` equals the body's
``batch``; ``X-Rtel-Kid`` names a seal key of the batch's province on the
trust list; ``X-Rtel-Signature`` is that key's SM2 signature of the exact
body bytes. A batch passing them is recorded once: a repeated key with the
same body is acknowledged again without counting its events twice, with
another body it is refused (409). Refusals: 400 malformed, 401 signature,
409 key reused.

Tests steer it (:class:`MinistryState`, or ``POST /_standin/mode``
``{"mode", "seconds", "times"}`` from outside the process):

``fail``        answer 503 without recording;
``body_error``  answer 200 ``{"code": 5001, ...}`` without recording;
``hang``        wait ``seconds`` before answering (past the client's timeout),
                recording the batch first with ``record`` (a lost answer) or not;
``slow``        wait ``seconds``, then answer normally;
``ok``          recover.

``times`` limits a mode to that many requests (then ``ok`` again).
``GET /_standin/received`` reports the counts.

Run it: ``python -m wallet.aggregation.standin --port 8090 --trust-list-url
http://127.0.0.1:8000/verifier/v1/trust-list --root-key HEX`` (the root
public key as ``wallet keys trust-list`` prints it). In tests:
``with MinistryStandin(trust) as ministry:`` binds a free loopback port.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

import httpx
import orjson

from wallet.aggregation.wire import (
    IDEMPOTENCY_HEADER,
    KID_HEADER,
    SIGNATURE_HEADER,
    signature_from_header,
)
from wallet.crypto import SM2Backend, parse_public_key_hex, sm2_backend
from wallet.keys.models import KeyUse
from wallet.keys.trust_list import TrustList, verify_trust_list

__all__ = ["BATCH_PATH", "MinistryStandin", "MinistryState", "main", "trust_list_from_url"]

log = logging.getLogger(__name__)

BATCH_PATH: Final = "/ministry/v1/batches"
_MAX_BODY: Final = 32 * 2**20
_MODES: Final = ("ok", "fail", "body_error", "hang", "slow")

Reply = tuple[int, dict[str, Any]]


@dataclass
class _Mode:
    name: str = "ok"
    seconds: float = 0.0
    times: int | None = None
    record: bool = False


@dataclass
class MinistryState:
    """What the stand-in remembers; tests read and steer it directly.

    ``trust`` gives the trust list to check signatures with (called again
    when a kid is unknown, at most every ``refresh`` seconds).
    """

    trust: Callable[[], TrustList]
    sm2: SM2Backend
    refresh: float = 5.0
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    arrivals: list[int] = field(default_factory=list)
    batches: dict[str, str] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    repeated_events: int = 0
    refusals: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _mode: _Mode = field(default_factory=_Mode)
    _trust_list: TrustList | None = None
    _trust_at: float = 0.0

    # -- steering ------------------------------------------------------------

    def set_mode(
        self, name: str, seconds: float = 0.0, times: int | None = None, record: bool = False
    ) -> None:
        """Answer the next requests (``times`` of them, or all) in mode ``name``."""
        if name not in _MODES:
            raise ValueError(f"mode is one of {', '.join(_MODES)}")
        with self.lock:
            self._mode = _Mode(name, seconds, times, record)

    def fail(self, times: int | None = None) -> None:
        """Answer 503 without recording."""
        self.set_mode("fail", times=times)

    def body_error(self, times: int | None = None) -> None:
        """Answer 200 with a body-level error code, without recording."""
        self.set_mode("body_error", times=times)

    def hang(self, seconds: float, *, record: bool = False, times: int | None = None) -> None:
        """Wait ``seconds`` before answering; with ``record``, record the batch first."""
        self.set_mode("hang", seconds, times, record)

    def slow(self, seconds: float, times: int | None = None) -> None:
        """Wait ``seconds``, then answer normally."""
        self.set_mode("slow", seconds, times)

    def recover(self) -> None:
        """Answer normally again."""
        self.set_mode("ok")

    def reset(self) -> None:
        """Forget everything received and recover."""
        with self.lock:
            self.events.clear()
            self.arrivals.clear()
            self.batches.clear()
            self.deliveries.clear()
            self.refusals.clear()
            self.requests = 0
            self.repeated_events = 0
            self._mode = _Mode()
            self._trust_list = None

    # -- reading -------------------------------------------------------------

    @property
    def distinct_events(self) -> int:
        """Events recorded, each once."""
        with self.lock:
            return len(self.events)

    def arrival_order(self) -> list[int]:
        """Event ids in the order they were first recorded."""
        with self.lock:
            return list(self.arrivals)

    def summary(self) -> dict[str, Any]:
        """Counts for ``GET /_standin/received``."""
        with self.lock:
            return {
                "requests": self.requests,
                "batches": len(self.batches),
                "deliveries": sum(self.deliveries.values()),
                "events": len(self.events),
                "repeated_events": self.repeated_events,
                "refusals": len(self.refusals),
                "mode": self._mode.name,
            }

    # -- the endpoint ----------------------------------------------------------

    def _take_mode(self) -> _Mode:
        with self.lock:
            self.requests += 1
            mode = self._mode
            if mode.times is not None:
                mode.times -= 1
                if mode.times <= 0:
                    self._mode = _Mode()
            return _Mode(mode.name, mode.seconds, None, mode.record)

    def _trusted(self, kid: str) -> TrustList:
        with self.lock:
            current, at = self._trust_list, self._trust_at
        stale = current is None or (
            kid not in current.keys and time.monotonic() - at >= self.refresh
        )
        if stale:
            current = self.trust()
            with self.lock:
                self._trust_list, self._trust_at = current, time.monotonic()
        assert current is not None
        return current

    def _refuse(self, status: int, code: int, message: str) -> Reply:
        with self.lock:
            self.refusals.append((status, message))
        return status, {"code": code, "message": message}

    def receive(self, headers: dict[str, str], body: bytes) -> Reply:
        """Check and record one batch; the status and JSON answer."""
        mode = self._take_mode()
        if mode.name == "fail":
            return 503, {"code": 5030, "message": "service unavailable (steered)"}
        if mode.name == "body_error":
            return 200, {"code": 5001, "message": "aggregation store busy (steered)"}
        if mode.name in ("slow", "hang") and not (mode.name == "hang" and mode.record):
            time.sleep(mode.seconds)
            if mode.name == "hang":
                return 504, {"code": 5040, "message": "timed out (steered)"}
        reply = self._check_and_record(headers, body)
        if mode.name == "hang":
            time.sleep(mode.seconds)  # recorded, but the answer comes too late
        return reply

    def _check_and_record(self, headers: dict[str, str], body: bytes) -> Reply:
        key = headers.get(IDEMPOTENCY_HEADER.lower(), "")
        kid = headers.get(KID_HEADER.lower(), "")
        signature = signature_from_header(headers.get(SIGNATURE_HEADER.lower(), ""))
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._refuse(400, 4000, "the body is not JSON")
        if not isinstance(document, dict) or not isinstance(document.get("events"), list):
            return self._refuse(400, 4000, "the body needs batch, province and events")
        province, events = document.get("province"), document["events"]
        if not key or document.get("batch") != key:
            return self._refuse(400, 4001, "the idempotency key is not the body's batch")
        if signature is None or not kid:
            return self._refuse(401, 4010, "no signature or kid")
        trusted = self._trusted(kid).key_for(kid, int(time.time()), KeyUse.SEAL)
        if trusted is None or trusted.division != province:
            return self._refuse(401, 4011, "the kid is no seal key of the batch's province")
        if not self.sm2.verify(trusted.public_key, body, signature):
            return self._refuse(401, 4012, "the signature does not verify")
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            known = self.batches.get(key)
            if known is not None:
                if known != digest:
                    self.refusals.append((409, "idempotency key reused with another body"))
                    return 409, {"code": 4090, "message": "idempotency key reused"}
                self.deliveries[key] += 1
                return 200, {"code": 0, "message": "already recorded", "batch": key}
            self.batches[key] = digest
            self.deliveries[key] += 1
            for event in events:
                event_id = int(event["id"])
                if event_id in self.events:
                    self.repeated_events += 1
                    continue
                self.events[event_id] = {**event, "batch": key}
                self.arrivals.append(event_id)
        return 200, {"code": 0, "message": "recorded", "batch": key, "events": len(events)}

    def control(self, path: str, body: dict[str, Any]) -> Reply:
        """POST /_standin/…: steer the stand-in from outside the process."""
        if path == "/_standin/mode":
            try:
                self.set_mode(
                    str(body.get("mode", "ok")),
                    float(body.get("seconds", 0)),
                    int(body["times"]) if body.get("times") is not None else None,
                    bool(body.get("record", False)),
                )
            except (TypeError, ValueError) as exc:
                return 400, {"code": 4000, "message": str(exc)}
            return 200, {"code": 0, "message": "ok"}
        if path == "/_standin/reset":
            self.reset()
            return 200, {"code": 0, "message": "ok"}
        return 404, {"code": 4040, "message": "unknown stand-in control"}


def _handler(state: MinistryState, path: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("ministry stand-in: " + format, *args)

        def _reply(self, status: int, answer: dict[str, Any]) -> None:
            data = orjson.dumps(answer)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a steered hang)

        def do_GET(self) -> None:
            if self.path == "/_standin/received":
                self._reply(200, state.summary())
            else:
                self._reply(404, {"code": 4040, "message": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self.close_connection = True
                self._reply(413, {"code": 4130, "message": "batch too large"})
                return
            body = self.rfile.read(length)
            if self.path.startswith("/_standin/"):
                try:
                    document = orjson.loads(body or b"{}")
                except orjson.JSONDecodeError:
                    document = None
                if not isinstance(document, dict):
                    self._reply(400, {"code": 4000, "message": "the body is not a JSON object"})
                    return
                self._reply(*state.control(self.path, document))
                return
            if self.path != path:
                self._reply(404, {"code": 4040, "message": "not found"})
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._reply(*state.receive(headers, body))

    return Handler


class MinistryStandin:
    """The stand-in on ``host:port`` (port 0 picks a free one), served from a thread.

    ``trust`` is a trust list, or a function returning the current one.
    """

    def __init__(
        self,
        trust: TrustList | Callable[[], TrustList],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sm2: SM2Backend | None = None,
        path: str = BATCH_PATH,
    ) -> None:
        source = trust if callable(trust) else (lambda: trust)
        self.state = MinistryState(trust=source, sm2=sm2 or sm2_backend("auto"))
        self.path = path
        self._server = ThreadingHTTPServer((host, port), _handler(self.state, path))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The batch endpoint to give the worker (``WALLET_MINISTRY_URL``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> MinistryStandin:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ministry-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MinistryStandin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def trust_list_from_url(url: str, root_key: bytes, sm2: SM2Backend) -> Callable[[], TrustList]:
    """A trust-list source that fetches ``url`` and checks it under ``root_key``."""

    def fetch() -> TrustList:
        response = httpx.get(url, timeout=10.0)
        response.raise_for_status()
        return verify_trust_list(response.text.strip(), root_key, sm2, int(time.time()))

    return fetch


def main(argv: list[str] | None = None) -> None:
    """``python -m wallet.aggregation.standin [--host H] [--port P] --trust-list-url URL
    --root-key HEX``."""
    parser = argparse.ArgumentParser(description="Local stand-in of the ministry's endpoint")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--trust-list-url",
        default="http://127.0.0.1:8000/verifier/v1/trust-list",
        help="where the platform publishes its trust list",
    )
    parser.add_argument(
        "--root-key", required=True, help="the root public key (04‖x‖y hex) the list is signed by"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sm2 = sm2_backend("auto")
    source = trust_list_from_url(args.trust_list_url, parse_public_key_hex(args.root_key), sm2)
    server = MinistryStandin(source, args.host, args.port, sm2=sm2)
    log.info("ministry stand-in on %s", server.url)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
