"""Typed settings, read once from the environment at start-up.

Every setting is documented in the README's settings table. A bad value stops
start-up with a message naming the variable, never a traceback deep inside a
request.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from wallet.errors import ConfigurationError

__all__ = [
    "CLAIM_TEMPLATE_ROLES",
    "DEFAULT_CLAIM_TEMPLATE_FIELDS",
    "Settings",
    "load_settings",
    "template_fields",
]

#: What the claim-review subscribe message says, each in one template keyword.
CLAIM_TEMPLATE_ROLES: Final = ("licence", "outcome", "note", "time")
#: The claim-review template of the WeChat template library this project was set up with.
DEFAULT_CLAIM_TEMPLATE_FIELDS: Final = "licence=thing1,outcome=phrase2,note=thing3,time=time4"
#: A WeChat template keyword: its type (``thing``, ``phrase``, ``time``, ...) and number.
_TEMPLATE_KEY: Final = re.compile(r"[a-z_]{1,32}[0-9]{1,3}")


def template_fields(value: str) -> dict[str, str]:
    """``licence=thing1,outcome=phrase2,...`` as a role → keyword mapping (ValueError if bad)."""
    pairs = [item.partition("=") for item in value.split(",") if item.strip()]
    fields = {role.strip(): key.strip() for role, _, key in pairs}
    if len(fields) != len(pairs) or sorted(fields) != sorted(CLAIM_TEMPLATE_ROLES):
        raise ValueError("name each of " + ", ".join(CLAIM_TEMPLATE_ROLES) + " once, as ROLE=KEY")
    bad = [key for key in fields.values() if not _TEMPLATE_KEY.fullmatch(key)]
    if bad or len(set(fields.values())) != len(fields):
        raise ValueError("keywords are WeChat's, e.g. thing1 or phrase2, each used once")
    return fields


def _parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(item.strip()) for item in value.split(",") if item.strip())
    except ValueError:
        raise ValueError("list networks as CIDRs, e.g. 127.0.0.0/8,10.1.0.0/16") from None


class Settings(BaseSettings):
    """All knobs of both deployables (prefix ``WALLET_`` unless stated)."""

    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore", frozen=True)

    # data_dir comes first: the default database lives in it (see _known_scheme).
    data_dir: Path = Field(default=Path("var"), description="Where embedded state lives")
    database_url: str = Field(
        default="",
        validate_default=True,
        validation_alias=AliasChoices("DATABASE_URL", "WALLET_DATABASE_URL"),
        description="Tortoise URL: sqlite://PATH or postgres://user@host:port/db "
        "(unset: sqlite://DATA_DIR/wallet.sqlite3)",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "WALLET_REDIS_URL"),
        description="redis://host:port/db, or redis+cluster://host:port for a Redis Cluster; "
        "unset means an in-process store (one process only)",
    )
    redis_cluster: bool = Field(
        default=False,
        description="true: REDIS_URL (redis:// or rediss://) names a node of a Redis Cluster",
    )
    deployment: Literal["standard", "test"] = Field(
        default="standard",
        description="test: a test deployment, where the registry identity provider may run "
        "on PostgreSQL or Redis",
    )
    master_key: str | None = Field(
        default=None,
        repr=False,
        description="64 hex chars (32 bytes); wraps private keys and derives vault keys",
    )
    master_key_file: Path | None = Field(
        default=None, description="File holding the master key in hex (alternative to MASTER_KEY)"
    )
    vault_key_id: str = Field(
        default="v1",
        pattern=r"^[a-z0-9]{1,16}$",
        description="Key id used for new personal-data encryptions",
    )
    sm2_backend: Literal["auto", "tongsuo", "gmssl"] = "auto"
    wechat_app_id: str = "wx0000000000000000"
    wechat_app_secret: str = Field(default="dev-secret", repr=False)
    wechat_api_base: str = Field(
        default="http://127.0.0.1:8089", description="WeChat server API base URL"
    )
    wechat_claim_template_id: str = Field(
        default="claim-review", description="Subscribe-message template of claim reviews"
    )
    wechat_claim_template_fields: str = Field(
        default=DEFAULT_CLAIM_TEMPLATE_FIELDS,
        description="Which keyword of the claim-review template carries what: "
        "licence, outcome, note and time, each as ROLE=KEY",
    )
    wechat_status_template_id: str = Field(
        default="licence-status",
        pattern=r"^[A-Za-z0-9_-]{0,64}$",
        description="Subscribe-message template of licence status changes (empty: not sent)",
    )
    wechat_version_template_id: str = Field(
        default="licence-version",
        pattern=r"^[A-Za-z0-9_-]{0,64}$",
        description="Subscribe-message template of a new licence version (empty: not sent)",
    )
    wechat_expiry_template_id: str = Field(
        default="licence-expiry",
        pattern=r"^[A-Za-z0-9_-]{0,64}$",
        description="Subscribe-message template of expiry reminders (empty: not sent)",
    )
    wechat_access_template_id: str = Field(
        default="licence-access",
        pattern=r"^[A-Za-z0-9_-]{0,64}$",
        description="Subscribe-message template telling a holder that a relying party read "
        "a licence under a grant (empty: not sent); keywords as the notice templates'",
    )
    wechat_notice_template_fields: str = Field(
        default=DEFAULT_CLAIM_TEMPLATE_FIELDS,
        description="Which keyword of the status, version and expiry templates carries "
        "what: licence, outcome, note and time, each as ROLE=KEY",
    )
    notify_interval: float = Field(
        default=5.0, ge=0.1, le=3600, description="Seconds between the notifier's passes"
    )
    notify_in_serve: bool = Field(
        default=True, description="Run the holder notifier inside `wallet serve`"
    )
    identity_provider: Literal["registry", "wechat_face"] = Field(
        default="registry",
        description="How real names are verified: registry (development) or wechat_face",
    )
    session_ttl: int = Field(
        default=7200, ge=60, le=30 * 86400, description="Holder session TTL, s"
    )
    officer_session_ttl: int = Field(default=3600, ge=60, le=86400)
    qr_lifetime: int = Field(default=60, ge=30, le=300, description="Online QR lifetime, s")
    offline_credential_lifetime: int = Field(default=7 * 86400, ge=3600, le=7 * 86400)
    print_lifetime_days: int = Field(
        default=365,
        ge=1,
        le=730,
        description="Lifetime of a printable credential's QR, days (never past the licence's "
        "validity end + 1 day)",
    )
    authority_clock_skew: int = Field(
        default=300, ge=5, le=3600, description="Accepted age of a signed authority request, s"
    )
    scan_rate_limit: int = Field(
        default=120, ge=1, description="Scans per officer (and per device) per minute"
    )
    lookup_rate_limit: int = Field(
        default=20, ge=1, description="Lookups per officer (and per device) per hour"
    )
    verification_retention_months: int = Field(
        default=24,
        ge=1,
        le=600,
        description="Months of verification log kept on PostgreSQL; older monthly "
        "partitions are dropped by `wallet maintenance partitions`",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    ministry_url: str = Field(
        default="http://127.0.0.1:8090/ministry/v1/batches",
        pattern=r"^https?://[^\s]+$",
        description="Where the aggregation worker pushes outbox batches (the local "
        "ministry stand-in in development)",
    )
    aggregation_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Outbox events per batch pushed to the ministry"
    )
    aggregation_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to wait for the ministry's answer"
    )
    aggregation_in_serve: bool = Field(
        default=True, description="Run one aggregation worker inside `wallet serve`"
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="json: one JSON object per line; text: time level logger message rid=…",
    )
    metrics_allow: str = Field(
        default="127.0.0.0/8,::1/128",
        description="Networks (comma-separated CIDRs) whose clients may read /metrics; empty: none",
    )
    metrics_token: str | None = Field(
        default=None,
        repr=False,
        min_length=32,
        description="When set, /metrics also needs this bearer token (32 characters or more)",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_dir(cls, value: Path) -> Path:
        # Resolved once, at start: the master key, the default database and every
        # message about them then name one absolute directory, whatever the process
        # does with its working directory later.
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            data_dir = info.data.get("data_dir")
            if not isinstance(data_dir, Path):
                return value  # data_dir itself is invalid and reported
            return f"sqlite://{data_dir / 'wallet.sqlite3'}"
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        if value.startswith("postgresql://"):
            value = "postgres://" + value.removeprefix("postgresql://")
        path = value.removeprefix("sqlite://")
        if value.startswith("sqlite://") and path and path != ":memory:":
            value = f"sqlite://{Path(path).expanduser().resolve()}"
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value.startswith(("redis+cluster://", "rediss+cluster://")):
            if urlsplit(value).path.strip("/") not in ("", "0"):
                raise ValueError("a Redis Cluster has only database 0")
            return value
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "must start with redis://, rediss://, unix:// or (a cluster) redis+cluster://"
            )
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        _parse_networks(value)
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _unset_token(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("master_key")
    @classmethod
    def _hex32(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise ValueError("must be hex") from None
        if len(raw) != 32:
            raise ValueError("must be 32 bytes (64 hex characters)")
        return value

    @field_validator("wechat_claim_template_fields", "wechat_notice_template_fields")
    @classmethod
    def _template_fields(cls, value: str) -> str:
        template_fields(value)
        return value

    @model_validator(mode="after")
    def _registry_only_embedded(self) -> Settings:
        # The registry provider binds whoever knows a holder's name and ID number:
        # acceptable on one developer's machine, never where real holders sign in.
        if self.identity_provider != "registry" or self.is_embedded or self.deployment == "test":
            return self
        reasons = [
            *(["DATABASE_URL names PostgreSQL"] if not self.is_embedded_database else []),
            *(["REDIS_URL is set"] if self.redis_url is not None else []),
        ]
        raise ValueError(
            "WALLET_IDENTITY_PROVIDER=registry (the default) runs only on the embedded "
            f"defaults, but {' and '.join(reasons)}: set WALLET_IDENTITY_PROVIDER=wechat_face, "
            "or WALLET_DEPLOYMENT=test if this is a test deployment"
        )

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks of :attr:`metrics_allow`."""
        return _parse_networks(self.metrics_allow)

    @property
    def is_embedded_database(self) -> bool:
        """True for SQLite."""
        return self.database_url.startswith("sqlite://")

    @property
    def is_embedded(self) -> bool:
        """True on the embedded defaults: SQLite and the in-process cache."""
        return self.is_embedded_database and self.redis_url is None

    @property
    def database_file(self) -> Path | None:
        """The SQLite file (absolute), or None for PostgreSQL and in-memory SQLite."""
        path = self.database_url.removeprefix("sqlite://")
        if not self.is_embedded_database or not path or path == ":memory:":
            return None
        return Path(path)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value raises ConfigurationError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if not loc:  # a rule across settings: its message names the variables
                lines.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            var = (
                loc.upper()
                if loc.upper() in {"DATABASE_URL", "REDIS_URL"}
                else f"WALLET_{loc.upper()}"
            )
            lines.append(f"{var}: {err['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(lines)) from None
