"""``wallet verify-offline``: the offline verifier as a command, the reference for enforcement apps.

From files only (the pinned root key, a trust list, status lists) and a
scanned string, it answers what :func:`~wallet.verification.offline.verify_offline`
answers: the verdict and the checks it could not make. It opens no
:class:`~wallet.runtime.Runtime`, no database, no cache and no network, so
it needs no settings and runs on a laptop with nothing but this package. Exit codes: 0 ``valid``,
1 any other verdict, 2 bad usage or an input file that cannot be trusted
(unreadable, or a trust list or status list that does not verify: no
verdict is given from it).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from wallet import jws
from wallet.cli._base import Subparsers
from wallet.crypto import SM2Backend, parse_public_key_hex, sm2_backend
from wallet.errors import ConfigurationError, CryptoError
from wallet.identifiers import province_division
from wallet.keys.trust_list import InvalidTrustList, TrustList, verify_trust_list
from wallet.presentation.tokens import parse_presentation
from wallet.verification.offline import OfflineResult, verify_offline
from wallet.verification.status_list import InvalidStatusList, StatusList, verify_status_list
from wallet.verification.verdict import Verdict

__all__ = ["parse_time", "register"]

_USAGE = 2


def parse_time(text: str) -> int:
    """``--at``: Unix seconds, or ISO 8601 with a UTC offset (``2026-11-18T11:06:40Z``).

    A time without an offset is refused rather than guessed: an inspector's
    clock reads +08:00, and a guess eight hours off changes verdicts.
    """
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither Unix seconds nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. Z or +08:00")
    return int(moment.timestamp())


def _read(path: str) -> str:
    return Path(path).read_text(encoding="ascii").strip()


def _status_list_for(qr: str, lists: list[StatusList]) -> StatusList | None:
    """The newest list of the province that issued ``qr``; ``None`` if none is given.

    The scanned string is only parsed here to read ``iss``; everything it
    claims is checked by :func:`verify_offline`, which also refuses a list of
    another province, so choosing by an unverified ``iss`` cannot make a
    verdict ``valid``.
    """
    try:
        iss = parse_presentation(qr).claims.iss
    except jws.MalformedToken:
        return None
    province = province_division(iss)
    mine = [listed for listed in lists if listed.division == province]
    return max(mine, key=lambda listed: listed.issued_at, default=None)


def _as_json(result: OfflineResult, now: int) -> dict[str, Any]:
    return {
        "verdict": result.verdict.value,
        "unchecked": list(result.unchecked),
        "status_list_age": result.status_list_age,
        "at": now,
        "claims": result.claims.as_payload() if result.claims is not None else None,
        "document": result.document,
        # A copy's grant cannot be checked offline: null, and "grant" is in unchecked.
        "grant_live": None,
        "copy": {
            "cid": result.copy.cid,
            "gid": result.copy.gid,
            "aud": result.copy.aud,
            "pur": result.copy.pur,
            "sta": result.copy.sta,
            "fld": dict(result.copy.fld),
        }
        if result.copy is not None
        else None,
    }


def _as_line(result: OfflineResult) -> str:
    parts = [result.verdict.value]
    if result.document in ("print", "copy"):
        parts.append("printable credential" if result.document == "print" else "annotated copy")
    if result.claims is not None:
        claims = result.claims
        parts.append(f"{claims.lic} v{claims.ver} ({claims.knd}, {claims.iss})")
    if result.copy is not None:
        parts.append(f"grant {result.copy.gid} not checkable offline")
    parts.append(f"unchecked: {', '.join(result.unchecked) or '-'}")
    if result.status_list_age is not None:
        parts.append(f"status list {result.status_list_age} s old")
    return "  ".join(parts)


def _inputs(
    args: argparse.Namespace, sm2: SM2Backend, now: int
) -> tuple[TrustList, list[StatusList]]:
    root = parse_public_key_hex(args.root_key)
    trust = verify_trust_list(_read(args.trust_list), root, sm2, now)
    lists = [verify_status_list(_read(path), trust, sm2) for path in args.status_list]
    return trust, lists


def _cmd_verify_offline(args: argparse.Namespace) -> int:
    now = args.at if args.at is not None else int(time.time())
    try:
        sm2 = sm2_backend(args.sm2_backend)
        trust, lists = _inputs(args, sm2, now)
    except OSError as exc:
        print(f"wallet verify-offline: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return _USAGE
    except (
        UnicodeDecodeError,
        ConfigurationError,
        CryptoError,
        InvalidTrustList,
        InvalidStatusList,
    ) as exc:
        # A list that does not verify is discarded, never half-trusted.
        detail = getattr(exc, "detail", None) or str(exc)
        print(f"wallet verify-offline: {detail}", file=sys.stderr)
        return _USAGE
    result = verify_offline(trust, _status_list_for(args.qr, lists), args.qr, now, sm2)
    if args.json:
        print(orjson.dumps(_as_json(result, now)).decode())
    else:
        print(_as_line(result))
    return 0 if result.verdict is Verdict.VALID else 1


def register(subparsers: Subparsers) -> None:
    """Add ``verify-offline`` to the ``wallet`` command tree."""
    command = subparsers.add_parser(
        "verify-offline",
        help="verify a scanned QR from files only: the offline reference verdict",
        description=(
            "Verify a scanned QR or offline credential with no network and no database. "
            "Exit 0 valid, 1 any other verdict, 2 bad usage or an input that does not verify."
        ),
    )
    command.add_argument(
        "--root-key",
        required=True,
        metavar="HEX",
        help="the pinned root public key (04||x||y, 130 hex characters)",
    )
    command.add_argument("--trust-list", required=True, metavar="FILE", help="the trust list JWS")
    command.add_argument(
        "--status-list",
        action="append",
        default=[],
        metavar="FILE",
        help="a province's status list JWS, repeatable (the QR's province is used)",
    )
    command.add_argument(
        "--at",
        type=parse_time,
        metavar="TIME",
        help="verify as of TIME: Unix seconds or ISO 8601 with an offset (default: now)",
    )
    command.add_argument(
        "--sm2-backend",
        choices=("auto", "tongsuo", "gmssl"),
        default="auto",
        help=argparse.SUPPRESS,
    )
    command.add_argument("--json", action="store_true", help="print the result as JSON")
    command.add_argument("qr", help="the scanned string: credential~code or a QR JWS")
    command.set_defaults(plain_handler=_cmd_verify_offline)
