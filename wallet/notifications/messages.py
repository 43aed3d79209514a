"""What each notification says, in the four keywords its template has.

Every template carries the licence (its kind's name), an outcome, a note
and a time; ``fields`` maps those roles onto the template's own keywords
(``WALLET_WECHAT_NOTICE_TEMPLATE_FIELDS``). Values are cut to WeChat's
length limits per keyword type and never carry personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from wallet.errors import NotFound
from wallet.licences.catalogue import get_kind

__all__ = [
    "CHINA",
    "NoticeTemplates",
    "expiry_values",
    "fit",
    "keyword_data",
    "status_values",
    "version_values",
]

CHINA: Final = timezone(timedelta(hours=8))
#: WeChat's length limits by keyword type (a longer value makes the whole send fail)
_MAX_LENGTH: Final = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10}

_STATUS: Final = {
    "suspend": ("已暂扣", "暂扣期间不能亮证使用"),
    "revoke": ("已吊销", "证照已失效"),
    "cancel": ("已注销", "证照已注销"),
    "reinstate": ("已恢复", "可正常亮证使用"),
}
_CHANGE: Final = {
    "change": "已变更",
    "renewal": "已换证",
    "replacement": "已补发",
    "annual_review": "已年审",
}


@dataclass(frozen=True)
class NoticeTemplates:
    """The template id of each message kind (empty: that kind is not sent) and the keywords."""

    status: str
    version: str
    expiry: str
    fields: Mapping[str, str]

    def template(self, kind: str) -> str:
        """The template id of notification ``kind`` (``expiry_30`` and ``expiry_7`` share one)."""
        if kind.startswith("expiry"):
            return self.expiry
        return self.status if kind == "status" else self.version

    def all(self) -> list[str]:
        """Every configured template id."""
        return [t for t in (self.status, self.version, self.expiry) if t]


def fit(key: str, value: str) -> str:
    """``value`` cut to the length WeChat allows for keyword ``key`` (e.g. ``thing3``)."""
    limit = _MAX_LENGTH.get(key.rstrip("0123456789"))
    return value[:limit] if limit else value


def _kind_name(kind: str) -> str:
    try:
        return get_kind(kind).name
    except NotFound:
        return "道路运输电子证照"


def _time(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def status_values(payload: Mapping[str, Any], at: datetime) -> dict[str, str] | None:
    """The message of a status change event; None for an action no holder hears of."""
    said = _STATUS.get(str(payload.get("action", "")))
    if said is None:
        return None
    outcome, note = said
    return {
        "licence": _kind_name(str(payload.get("kind", ""))),
        "outcome": outcome,
        "note": note,
        "time": _time(at),
    }


def version_values(payload: Mapping[str, Any], at: datetime) -> dict[str, str] | None:
    """The message of a new version superseding the last; None for a first version."""
    version = payload.get("version")
    if not isinstance(version, int) or version < 2:
        return None
    outcome = _CHANGE.get(str(payload.get("change_type", "")), "已更新")
    return {
        "licence": _kind_name(str(payload.get("kind", ""))),
        "outcome": outcome,
        "note": f"已更新为第{version}版",
        "time": _time(at),
    }


def expiry_values(kind: str, valid_until: date, days_left: int, at: datetime) -> dict[str, str]:
    """The reminder that the validity ends on ``valid_until``, ``days_left`` days from today."""
    return {
        "licence": _kind_name(kind),
        "outcome": "即将到期",
        "note": f"{valid_until.isoformat()}到期，剩{days_left}天",
        "time": _time(at),
    }


def keyword_data(values: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, str]:
    """``values`` by role as the template's keywords, each fitted to its limit."""
    return {key: fit(key, values[role]) for role, key in fields.items()}
