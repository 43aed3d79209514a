"""The printable credential (打印凭证): a page of the licence with a long-lived signed QR.

The QR is an ``rtel-print`` string (:func:`~wallet.presentation.tokens.mint_print`)
signed by the active presentation key: it names the licence and its version,
and any verifier checks it online — the paper identifies the licence, the
scan reads its live status (``superseded`` once a newer version exists,
``suspended``, ``revoked`` …). It lives ``lifetime_days`` (setting
``print_lifetime_days``, default 365), never past the day after the licence's
validity ends; the key is noted as having signed until then
(:meth:`~wallet.keys.service.KeyStore.note_signed`), so a rotated
presentation key stays on the trust list as long as its prints.

Only the holder, or whoever acts for an enterprise holder, may print a
licence it has claimed (claim standing, not pending review nor rejected), and
not one that has ended. Anyone else gets the same 404 as for a licence that
does not exist. The page shows the face as the holder's own listing does:
personal data masked, no photo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Final

from wallet.audit.service import append as audit
from wallet.claims.errors import (
    LicenceEnded,
    LicenceNotFound,
)
from wallet.claims.faces import LicenceFaces, mask_face
from wallet.claims.holding import holder_of, require_in_use
from wallet.claims.repository import ClaimRepository
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.documents import Document, DocumentField
from wallet.enterprises.service import EnterpriseService
from wallet.holders.principal import HolderSession
from wallet.keys.service import KeyStore
from wallet.licences.catalogue import LicenceKind, get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import mint_print, new_print_id
from wallet.uow import UnitOfWork

__all__ = ["PRINT_SUBTITLE", "Printables", "PrintedCredential", "print_document"]

PRINT_SUBTITLE: Final = "电子证照打印凭证"
_CHINA: Final = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class PrintedCredential:
    """A minted print: its signed string, when it ends, and the page to render."""

    token: str
    jti: str
    expires_at: datetime
    document: Document


def _china_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _text(kind: LicenceKind, name: str, value: Any) -> str:
    spec = kind.field(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(spec.label_of(str(item)) for item in value)
    if spec.type == "enum" and isinstance(value, str):
        return spec.label_of(value)
    return str(value)


def print_document(
    *,
    kind: LicenceKind,
    face: Mapping[str, Any],
    licence: Licence,
    token: str,
    jti: str,
    issued_at: datetime,
    expires_at: datetime,
) -> Document:
    """The page of a print: the (masked) face, validity and issuer, the QR and small print."""
    rows = [
        DocumentField(spec.label, _text(kind, spec.name, face[spec.name]))
        for spec in kind.fields
        if spec.name in face and face[spec.name] not in (None, "", [])
    ]
    labels = {row.label for row in rows}
    if "发证机关" not in labels:
        rows.append(DocumentField("发证机关", licence.issuer_name))
    if not labels & {"有效期起", "有效期至"} and (licence.valid_from or licence.valid_until):
        start = licence.valid_from.isoformat() if licence.valid_from else ""
        end = licence.valid_until.isoformat() if licence.valid_until else "长期"
        rows.append(DocumentField("有效期限", f"{start} 至 {end}"))
    until = expires_at.astimezone(_CHINA).date()
    issued = issued_at.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M")
    return Document(
        title=kind.name,
        subtitle=PRINT_SUBTITLE,
        fields=rows,
        qr=token,
        annotation=f"证照状态以扫码核验结果为准　二维码{_china_date(until)}前有效",
        notes=(
            f"证照标识 {licence.ref}　第{licence.version}版　凭证编号 {jti}",
            f"打印时间 {issued}（北京时间）；个人信息已按规定部分隐藏",
            "本凭证二维码由道路运输电子证照平台以SM2签名，任何核验终端扫码即可查询证照实时状态；"
            "证照变更、暂扣或注销后，扫码结果随之变化。",
        ),
    )


class Printables:
    """Mints printable credentials for a holder's claimed licences."""

    def __init__(
        self,
        *,
        keys: KeyStore,
        sm2: SM2Backend,
        clock: Clock,
        licences: LicenceRepository,
        claims: ClaimRepository,
        enterprises: EnterpriseService,
        faces: LicenceFaces,
        lifetime_days: int = 365,
    ) -> None:
        self.keys, self.sm2, self.clock = keys, sm2, clock
        self.licences, self.claims, self.enterprises = licences, claims, enterprises
        self.faces = faces
        self.lifetime = timedelta(days=lifetime_days)

    async def mint(self, uow: UnitOfWork, session: HolderSession, ref: str) -> PrintedCredential:
        """A print of ``ref`` for the caller, in ``uow`` (a writing unit of work).

        Raises :class:`~wallet.claims.errors.LicenceNotFound` for a licence
        that does not exist or is not the caller's (the same answer), and a
        409 for one not claimed, in review, rejected, or ended.
        """
        licence = await self._printable_licence(uow, session, ref)
        now = self.clock.now()
        end = now + self.lifetime
        if licence.valid_until is not None:
            # Never past the day after the validity ends (China's calendar).
            cap = datetime.combine(licence.valid_until + timedelta(days=2), time(), _CHINA)
            end = min(end, cap)
        iat, exp = int(now.timestamp()), int(end.timestamp())
        if exp <= iat:
            raise LicenceEnded("the licence's validity has ended")
        key = await self.keys.active_key(uow, "presentation")
        jti = new_print_id()
        token = mint_print(
            key.kid,
            key.private_key,
            self.sm2,
            lic=licence.ref,
            knd=kind_code(licence.kind),
            iss=licence.issuer_division,
            ver=licence.version,
            now=iat,
            exp=exp,
            jti=jti,
        )
        expires_at = datetime.fromtimestamp(exp, UTC)
        await self.keys.note_signed(uow, key.kid, until=expires_at)
        await audit(
            uow,
            at=now,
            actor=f"account:{session.account_id}",
            action="licence.print",
            subject=licence.ref,
            detail={"jti": jti, "version": licence.version, "expires_at": exp, "kid": key.kid},
        )
        kind = get_kind(licence.kind)
        face = (await self.faces.current(uow, [licence])).get(licence.id, {})
        document = print_document(
            kind=kind,
            face=mask_face(kind, face),
            licence=licence,
            token=token,
            jti=jti,
            issued_at=now,
            expires_at=expires_at,
        )
        return PrintedCredential(token, jti, expires_at, document)

    async def _printable_licence(
        self, uow: UnitOfWork, session: HolderSession, ref: str
    ) -> Licence:
        principal = await self.enterprises.principal_of(uow, session)
        licence = await self.licences.by_ref(uow, ref)
        if licence is None or not principal.may_act_on(holder_of(licence)):
            raise LicenceNotFound()
        require_in_use(await self.claims.of_licence(uow, licence.id), licence)
        return licence
