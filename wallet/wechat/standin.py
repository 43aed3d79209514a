"""A local stand-in for the WeChat server API, for development and tests.

It speaks the calls :mod:`wallet.wechat.client` makes, over real HTTP
(stdlib ``http.server``, one thread per request), with deterministic
answers driven by the values sent:

login codes (``GET /sns/jscode2session``)
    ``bad…`` → 40029, ``limited…`` → 45011, ``blocked…`` → 40226,
    ``busy…`` → -1; a code used twice → 40163. Otherwise the part before the
    first ``.`` names the user: ``alice.1`` and ``alice.2`` sign in the same
    openid (derived from app id and user), as a real user's successive codes do.
phone codes (``POST /wxa/business/getuserphonenumber``)
    ``bad…`` → 40029, ``limited…`` → 45011; ``phone-13812345678`` → that
    number; anything else → a number derived from the code.
access token (``GET /cgi-bin/token``, ``POST /cgi-bin/stable_token``)
    checks app id and secret (40013, 40125); tokens last ``token_ttl``
    seconds; :meth:`StandinState.expire_tokens` invalidates them (40001 next).
subscribe messages (``POST /cgi-bin/message/subscribe/send``)
    recorded in :attr:`StandinState.messages` (``GET /_standin/messages``);
    an openid in :attr:`StandinState.refusing` → 43101; while
    :attr:`StandinState.busy_sends` is above zero, each send answers -1 (busy)
    and counts it down.
face verification (``POST /cityservice/face/identify/getverifyid`` and
``.../queryverifyinfo``)
    every session counts as completed on the phone with ``verify_ret``
    10000, unless an outcome was set for the ID number
    (:meth:`StandinState.set_face_outcome`, ``POST /_standin/face-outcome``
    ``{"cert_no", "verify_ret"}``); a ``cert_hash``, openid or sequence
    number that differs from the session's → 10003.

Run it: ``python -m wallet.wechat.standin --port 8089`` (the default
``WALLET_WECHAT_API_BASE``). In tests: ``with StandinServer() as standin:``
binds a free loopback port and serves from a background thread.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wallet.wechat.client import FACE_VERIFIED

__all__ = ["StandinServer", "StandinState", "main"]

log = logging.getLogger(__name__)

_PREFIX_ERRORS = (("bad", 40029), ("limited", 45011), ("blocked", 40226), ("busy", -1))
_PHONE = re.compile(r"phone-(1[0-9]{10})")

Reply = dict[str, Any]


def _wechat_cert_hash(cert: dict[str, Any]) -> str:
    """``cert_hash`` by WeChat's documented rule, written out here on its own.

    Deliberately not shared with the client's :func:`face_cert_hash`: the
    stand-in must reject a client that computes it differently. Standard
    base64 of each value, joined as ``cert_type=…&cert_name=…&cert_no=…``,
    SHA-256 in lower-case hex.
    """
    parts = [
        f"{name}={base64.standard_b64encode(str(cert[name]).encode('utf-8')).decode('ascii')}"
        for name in ("cert_type", "cert_name", "cert_no")
    ]
    return hashlib.sha256("&".join(parts).encode("utf-8")).hexdigest()


def _err(code: int, message: str) -> Reply:
    return {"errcode": code, "errmsg": message}


@dataclass
class StandinState:
    """Everything the stand-in remembers; tests read and steer it directly."""

    app_id: str
    app_secret: str
    token_ttl: int = 7200
    token_fetches: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)
    busy_sends: int = 0
    """Subscribe sends still to answer -1 (system busy), as WeChat does when it struggles."""
    tokens: dict[str, float] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    face_sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    face_outcomes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def openid(self, user: str) -> str:
        """The openid the stand-in gives ``user`` (28 characters, like WeChat's)."""
        digest = hashlib.sha256(f"{self.app_id}:{user}".encode()).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far."""
        with self.lock:
            self.tokens.clear()

    def set_face_outcome(self, id_number: str, verify_ret: int) -> None:
        """Make face sessions for ``id_number`` end with ``verify_ret``."""
        with self.lock:
            self.face_outcomes[id_number.upper()] = verify_ret

    def reset(self) -> None:
        """Forget messages, codes, outcomes and sessions (tokens stay valid)."""
        with self.lock:
            self.messages.clear()
            self.refusing.clear()
            self.used_codes.clear()
            self.face_sessions.clear()
            self.face_outcomes.clear()
            self.token_fetches = 0
            self.busy_sends = 0

    # -- the API ---------------------------------------------------------------

    def token(self, params: dict[str, str]) -> Reply:
        if params.get("grant_type") != "client_credential":
            return _err(40002, "invalid grant_type")
        if params.get("appid") != self.app_id:
            return _err(40013, "invalid appid")
        if params.get("secret") != self.app_secret:
            return _err(40125, "invalid appsecret")
        token = "ST_" + secrets.token_hex(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.token_fetches += 1
        return {"access_token": token, "expires_in": self.token_ttl}

    def jscode2session(self, params: dict[str, str]) -> Reply:
        """GET /cgi-bin/token (and POST /cgi-bin/stable_token): a fresh access token."""
        if params.get("appid") != self.app_id or params.get("secret") != self.app_secret:
            return _err(40125, "invalid appid or appsecret")
        code = params.get("js_code", "")
        if params.get("grant_type") != "authorization_code" or not code:
            return _err(40029, "invalid code")
        for prefix, errcode in _PREFIX_ERRORS:
            if code.startswith(prefix):
                return _err(errcode, "steered by the code prefix")
        with self.lock:
            if code in self.used_codes:
                return _err(40163, "code been used")
            self.used_codes.add(code)
        user = code.split(".", 1)[0]
        return {
            "openid": self.openid(user),
            "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
        }

    def _token_ok(self, params: dict[str, str]) -> bool:
        with self.lock:
            expires = self.tokens.get(params.get("access_token", ""))
        return expires is not None and expires > time.monotonic()

    def phone_number(self, params: dict[str, str], body: dict[str, Any]) -> Reply:
        """GET /sns/jscode2session: openid and session key for a login code."""
        if not self._token_ok(params):
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        code = str(body.get("code", ""))
        if not code or code.startswith("bad"):
            return _err(40029, "invalid code")
        if code.startswith("limited"):
            return _err(45011, "api minute-quota reach limit")
        match = _PHONE.fullmatch(code)
        number = (
            match.group(1)
            if match
            else "139" + str(int(hashlib.sha256(code.encode()).hexdigest(), 16) % 10**8).zfill(8)
        )
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": number,
                "purePhoneNumber": number,
                "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": self.app_id},
            },
        }

    def subscribe_send(self, params: dict[str, str], body: dict[str, Any]) -> Reply:
        """POST /wxa/business/getuserphonenumber: the number behind a phone code."""
        if not self._token_ok(params):
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        touser, template = body.get("touser"), body.get("template_id")
        if not touser or not template or not isinstance(body.get("data"), dict):
            return _err(47003, "argument invalid")
        if touser in self.refusing:
            return _err(43101, "user refuse to accept the msg")
        with self.lock:
            if self.busy_sends > 0:
                self.busy_sends -= 1
                return _err(-1, "system error")
        with self.lock:
            self.messages.append(
                {
                    "touser": touser,
                    "template_id": template,
                    "page": body.get("page"),
                    "data": body["data"],
                }
            )
        return _err(0, "ok")

    def getverifyid(self, params: dict[str, str], body: dict[str, Any]) -> Reply:
        """POST /cityservice/face/identify/getverifyid: open a face session."""
        if not self._token_ok(params):
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        cert = body.get("cert_info")
        if (
            not isinstance(cert, dict)
            or cert.get("cert_type") != "IDENTITY_CARD"
            or not cert.get("cert_name")
            or not cert.get("cert_no")
            or not body.get("openid")
            or not body.get("out_seq_no")
        ):
            return _err(40097, "invalid args")
        verify_id = "vid_" + secrets.token_hex(16)
        with self.lock:
            self.face_sessions[verify_id] = {
                "openid": str(body["openid"]),
                "out_seq_no": str(body["out_seq_no"]),
                "cert_no": str(cert["cert_no"]).upper(),
                "cert_hash": _wechat_cert_hash(cert),
            }
        return {"errcode": 0, "errmsg": "ok", "verify_id": verify_id, "expires_in": 3600}

    def queryverifyinfo(self, params: dict[str, str], body: dict[str, Any]) -> Reply:
        """POST /cityservice/face/identify/queryverifyinfo: the session's result.

        A ``cert_hash`` that is not WeChat's (see :func:`_wechat_cert_hash`)
        answers 40097, as WeChat does.
        """
        if not self._token_ok(params):
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        with self.lock:
            session = self.face_sessions.get(str(body.get("verify_id", "")))
        if session is None:
            return _err(40097, "invalid args: unknown verify_id")
        if str(body.get("cert_hash", "")) != session["cert_hash"]:
            return _err(40097, "invalid args: cert_hash")
        same = all(str(body.get(k, "")) == session[k] for k in ("openid", "out_seq_no"))
        ret = self.face_outcomes.get(session["cert_no"], FACE_VERIFIED) if same else 10003
        return {"errcode": 0, "errmsg": "ok", "verify_ret": ret}

    def control(self, path: str, body: dict[str, Any]) -> Reply:
        """POST /_standin/…: steer the stand-in from outside the process."""
        if path == "/_standin/face-outcome":
            self.set_face_outcome(str(body.get("cert_no", "")), int(body.get("verify_ret", 0)))
            return _err(0, "ok")
        if path == "/_standin/expire-tokens":
            self.expire_tokens()
            return _err(0, "ok")
        return _err(404, "unknown stand-in control")


def _handler(state: StandinState) -> type[BaseHTTPRequestHandler]:
    gets: dict[str, Callable[[dict[str, str]], Reply]] = {
        "/cgi-bin/token": state.token,
        "/sns/jscode2session": state.jscode2session,
    }
    posts: dict[str, Callable[[dict[str, str], dict[str, Any]], Reply]] = {
        "/cgi-bin/stable_token": lambda _, body: state.token({k: str(v) for k, v in body.items()}),
        "/wxa/business/getuserphonenumber": state.phone_number,
        "/cgi-bin/message/subscribe/send": state.subscribe_send,
        "/cityservice/face/identify/getverifyid": state.getverifyid,
        "/cityservice/face/identify/queryverifyinfo": state.queryverifyinfo,
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "wechat-standin/1"

        def _send(self, reply: object, status: int = 200) -> None:
            raw = json.dumps(reply, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _params(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}

        def do_GET(self) -> None:
            path, params = self._params()
            if path == "/_standin/messages":
                with state.lock:
                    self._send(list(state.messages))
                return
            handler = gets.get(path)
            self._send(
                handler(params) if handler else _err(404, "unknown path"), 200 if handler else 404
            )

        def do_POST(self) -> None:
            path, params = self._params()
            size = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(size) or b"{}")
            except ValueError:
                self._send(_err(47001, "data format error"))
                return
            if not isinstance(body, dict):
                self._send(_err(47001, "data format error"))
                return
            if path.startswith("/_standin/"):
                self._send(state.control(path, body))
                return
            handler = posts.get(path)
            self._send(
                handler(params, body) if handler else _err(404, "unknown path"),
                200 if handler else 404,
            )

        def log_message(self, format: str, *args: Any) -> None:
            # The query string carries codes and tokens: log the path only.
            log.debug("stand-in %s %s", self.command, urlsplit(self.path).path)

    return Handler


class StandinServer:
    """The stand-in on ``host:port`` (port 0 picks a free one), served from a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app_id: str = "wx0000000000000000",
        app_secret: str = "dev-secret",  # noqa: S107 - the development default
    ) -> None:
        self.state = StandinState(app_id=app_id, app_secret=app_secret)
        self._server = ThreadingHTTPServer((host, port), _handler(self.state))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give the client (``http://127.0.0.1:<port>``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandinServer:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="wechat-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m wallet.wechat.standin [--host H] [--port P] [--app-id A] [--app-secret S]``."""
    parser = argparse.ArgumentParser(description="Local stand-in of the WeChat server API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument(
        "--app-id",
        default="wx0000000000000000",
        help="must equal WALLET_WECHAT_APP_ID of the backend",
    )
    parser.add_argument(
        "--app-secret",
        default="dev-secret",
        help="must equal WALLET_WECHAT_APP_SECRET of the backend",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = StandinServer(args.host, args.port, app_id=args.app_id, app_secret=args.app_secret)
    log.info("WeChat stand-in on %s (app id %s)", server.url, args.app_id)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
