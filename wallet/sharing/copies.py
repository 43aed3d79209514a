"""The annotated copy (加注件, annotated copy): its signed token and its printable page.

:func:`mint_copy` signs the ``rtel-copy`` JWS of the sharing contract with
the active copy key: ``cid`` (copy id), ``gid`` (grant), ``lic``, ``knd``,
``iss``, ``ver``, ``aud`` (the party's USCC), ``pur``, ``sta`` (licence
status when issued), ``fld`` (granted field → value, as strings), ``iat``
and ``exp`` (the grant's end). :func:`copy_document` lays the same content
out for :func:`wallet.documents.render_pdf`. Pure functions over keys and
values: no database, no clock.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from wallet import jws
from wallet.crypto import SM2Backend
from wallet.documents import Document, DocumentField
from wallet.licences.catalogue import LicenceKind

__all__ = ["COPY_TYPE", "copy_document", "field_text", "mint_copy", "new_copy_id"]

COPY_TYPE: Final = "rtel-copy"
_CHINA: Final = timezone(timedelta(hours=8))


def new_copy_id() -> str:
    """128 random bits, base64url (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def field_text(kind: LicenceKind, name: str, value: Any) -> str:
    """A face value as printed: enum labels, lists joined, everything a string."""
    spec = kind.field(name)
    if value is None:
        return ""
    if spec.type == "enum" and isinstance(value, str):
        return spec.label_of(value)
    if isinstance(value, list):
        return "、".join(spec.label_of(str(v)) for v in value)
    return str(value)


def mint_copy(
    kid: str,
    private_key: bytes,
    sm2: SM2Backend,
    *,
    cid: str,
    gid: str,
    lic: str,
    knd: str,
    iss: str,
    ver: int,
    aud: str,
    pur: str,
    sta: str,
    fld: Mapping[str, str],
    iat: int,
    exp: int,
) -> str:
    """The compact JWS of an annotated copy."""
    payload = {
        "cid": cid,
        "gid": gid,
        "lic": lic,
        "knd": knd,
        "iss": iss,
        "ver": ver,
        "aud": aud,
        "pur": pur,
        "sta": sta,
        "fld": dict(fld),
        "iat": iat,
        "exp": exp,
    }
    return jws.encode({"kid": kid, "typ": COPY_TYPE}, payload, private_key, sm2)


def _china_date(moment: datetime) -> str:
    local = moment.astimezone(_CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


def copy_document(
    *,
    kind: LicenceKind,
    fields: Mapping[str, str],
    token: str,
    party_name: str,
    purpose_label: str,
    status_label: str,
    grant_id: str,
    copy_id: str,
    issued_at: datetime,
    expires_at: datetime,
    notes: Sequence[str] = (),
) -> Document:
    """The printable page of a copy: granted fields, the annotation and the copy's QR."""
    rows = [DocumentField(kind.field(name).label, value) for name, value in fields.items()]
    rows.append(DocumentField("证照状态", status_label))
    issued = issued_at.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M")
    return Document(
        title=kind.name,
        subtitle="电子证照加注件",
        fields=rows,
        qr=token,
        annotation=f"仅供{party_name}用于{purpose_label}，{_china_date(expires_at)}前有效",
        notes=(
            f"授权编号 {grant_id}　加注件编号 {copy_id}",
            f"出具时间 {issued}（北京时间）",
            "本加注件由道路运输电子证照平台以SM2签名，扫码可核验其真实性与证照实时状态。",
            *notes,
        ),
    )
