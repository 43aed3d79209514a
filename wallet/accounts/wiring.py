"""The holder side's services, put together once per runtime.

:func:`holder_services` builds them on first use from the runtime's
settings, vault, cache and clock and keeps them on the runtime, so they
are made once per process and never at import. The identity provider
(``WALLET_IDENTITY_PROVIDER``; rebinding always uses face verification) and
the claim-review template (``WALLET_WECHAT_CLAIM_TEMPLATE_ID``) come from the
settings. Tests build their own with :meth:`HolderServices.build` (another
WeChat base URL or provider) and install them with
:func:`install_holder_services`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from wallet.accounts.identity import WeChatFaceProvider, identity_provider
from wallet.accounts.ratelimit import FailureLimit
from wallet.accounts.service import AccountService
from wallet.accounts.sessions import SessionStore
from wallet.accounts.transport_key import TransportKey
from wallet.activation.service import ActivationService
from wallet.claims.listing import Listing
from wallet.claims.notify import ClaimNotifier
from wallet.claims.service import ClaimService
from wallet.enterprises.service import EnterpriseService, PermitPersonInCharge
from wallet.runtime import Runtime
from wallet.wechat import WeChatGateway

__all__ = ["HolderServices", "holder_services", "install_holder_services"]

_ATTR: Final = "_holder_services"
IDENTITY_FAILURES: Final = 5
IDENTITY_WINDOW: Final = 3600
FACE_STARTS: Final = 5
"""Face verifications an account may start per :data:`IDENTITY_WINDOW` (each is a paid call)."""


@dataclass
class HolderServices:
    """Every service of the holder side, sharing one WeChat gateway."""

    gateway: WeChatGateway
    accounts: AccountService
    enterprises: EnterpriseService
    claims: ClaimService
    listing: Listing
    activations: ActivationService

    @classmethod
    def build(
        cls,
        runtime: Runtime,
        *,
        wechat_api_base: str | None = None,
        identity: str | None = None,
        claim_template: str | None = None,
    ) -> HolderServices:
        """The services over ``runtime``; arguments override the settings."""
        settings = runtime.settings
        gateway = WeChatGateway(
            app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
            api_base=wechat_api_base or settings.wechat_api_base,
            cache=runtime.cache,
        )
        transport = TransportKey.from_master_key(runtime.master_key, runtime.sm2)
        provider = identity_provider(
            identity or settings.identity_provider,
            vault=runtime.vault,
            cache=runtime.cache,
            gateway=gateway,
        )
        template = claim_template or settings.wechat_claim_template_id
        vault, clock = runtime.vault, runtime.clock
        return cls(
            gateway=gateway,
            accounts=AccountService(
                vault=vault,
                clock=clock,
                sessions=SessionStore(runtime.cache, vault, settings.session_ttl),
                gateway=gateway,
                identity=provider,
                strong=WeChatFaceProvider(gateway, runtime.cache, runtime.vault),
                transport=transport,
                failures=FailureLimit(
                    runtime.cache, "rtel:identity-failures", IDENTITY_FAILURES, IDENTITY_WINDOW
                ),
                face_starts=FailureLimit(
                    runtime.cache, "rtel:face-starts", FACE_STARTS, IDENTITY_WINDOW
                ),
            ),
            enterprises=EnterpriseService(
                vault, clock, transport, PermitPersonInCharge(vault, clock)
            ),
            claims=ClaimService(vault, clock, ClaimNotifier(gateway, vault, template)),
            listing=Listing(vault, clock),
            activations=ActivationService(vault, clock, runtime.presenter.offline_credential),
        )

    def close(self) -> None:
        """Release the gateway's HTTP connections."""
        self.gateway.close()


def holder_services(runtime: Runtime) -> HolderServices:
    """The runtime's holder services, built on first use."""
    services = vars(runtime).get(_ATTR)
    if not isinstance(services, HolderServices):
        services = HolderServices.build(runtime)
        vars(runtime)[_ATTR] = services
        runtime.on_close(services.close)
    return services


def install_holder_services(runtime: Runtime, services: HolderServices) -> HolderServices | None:
    """Use ``services`` for ``runtime`` from now on; returns the ones they replace."""
    previous = vars(runtime).get(_ATTR)
    vars(runtime)[_ATTR] = services
    return previous if isinstance(previous, HolderServices) else None
