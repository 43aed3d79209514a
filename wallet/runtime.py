"""The process runtime: every service of the process, built once, in one place.

The app lifespans and the command line open a :class:`Runtime` with
:func:`open_runtime` and hand it down as an argument; nothing is created at
import time and nothing is built on first use. Domain folders never import
this module: it imports them (the composition root).

The holder side is a one-way chain (``holders`` → ``accounts`` →
``enterprises`` → ``claims`` → ``activation``); where a lower layer must end
activations (a rebinding, an agent's revocation), :func:`_build` gives it
the activation repository here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

from redis.asyncio import Redis

from wallet.accounts.identity import WeChatFaceProvider, identity_provider
from wallet.accounts.ratelimit import FailureLimit
from wallet.accounts.repository import AccountRepository
from wallet.accounts.service import AccountService
from wallet.accounts.sessions import SessionStore
from wallet.accounts.transport_key import TransportKey
from wallet.activation.listing import Listing
from wallet.activation.repository import ActivationRepository, ListingRepository
from wallet.activation.service import ActivationService
from wallet.aggregation.ministry import MinistryClient
from wallet.aggregation.repository import AggregationRepository
from wallet.aggregation.service import Aggregator
from wallet.cache import open_cache, ping_cache
from wallet.claims.faces import LicenceFaces, PermitPersonInCharge
from wallet.claims.notify import ClaimNotifier
from wallet.claims.repository import ClaimRepository
from wallet.claims.service import ClaimService
from wallet.clock import Clock, SystemClock
from wallet.console.desk import LicenceDesk
from wallet.console.repository import ConsoleRepository
from wallet.console.service import ConsoleUsers
from wallet.crypto import SM2Backend, sm2_backend
from wallet.db import close_database, open_database, ping_database
from wallet.enterprises.repository import EnterpriseRepository
from wallet.enterprises.service import EnterpriseService
from wallet.figures.repository import FiguresRepository
from wallet.figures.service import Figures
from wallet.holders.repository import HolderRepository
from wallet.keys.repository import KeyRepository
from wallet.keys.service import KeyStore
from wallet.licences.repository import LicenceRepository
from wallet.licences.service import Registry
from wallet.masterkey import derive_key, load_master_key
from wallet.notifications.messages import NoticeTemplates
from wallet.notifications.repository import (
    NotificationRepository,
    OutboxReader,
    SubscriptionRepository,
)
from wallet.notifications.service import Notifier
from wallet.notifications.subscriptions import Subscriptions
from wallet.notifications.worker import NotifyWorker
from wallet.officers.repository import OfficerRepository
from wallet.officers.service import Officers
from wallet.presentation.printable import Printables
from wallet.presentation.service import Presenter
from wallet.settings import Settings, template_fields
from wallet.sharing.notify import AccessNotifier
from wallet.sharing.parties import Parties
from wallet.sharing.repository import SharingRepository
from wallet.sharing.service import Sharing
from wallet.vault import Vault
from wallet.verification.grants import SharedGrants
from wallet.verification.log import VerificationLog
from wallet.verification.probe import CacheProbe
from wallet.verification.publication import Publication
from wallet.verification.repository import VerificationRepository
from wallet.verification.service import Verifier
from wallet.verification.spool import VerificationSpool
from wallet.verification.trust import TrustCache
from wallet.wechat import WeChatGateway

__all__ = ["Runtime", "open_runtime"]

IDENTITY_FAILURES: Final = 5
"""Failed identity confirmations an account or an ID number may have per window."""
IDENTITY_WINDOW: Final = 3600
FACE_STARTS: Final = 5
"""Face verifications an account may start per :data:`IDENTITY_WINDOW` (each is a paid call)."""


@dataclass
class Runtime:
    """Everything a request or a command needs: settings, stores and every service."""

    settings: Settings
    clock: Clock
    cache: Redis
    sm2: SM2Backend
    vault: Vault
    keys: KeyStore
    master_key: bytes = field(repr=False)
    registry: Registry = field(repr=False)
    """The registry service (the authority's feed, search and views)."""
    officers: Officers = field(repr=False)
    """Officer accounts and sessions (sign-in throttling keeps state per process too)."""
    verifier: Verifier = field(repr=False)
    """The online verifier (one per process: it holds the trust list in memory)."""
    publication: Publication = field(repr=False)
    """The signed trust list and status lists."""
    presenter: Presenter = field(repr=False)
    """Fresh QR strings and offline credentials."""
    printables: Printables = field(repr=False)
    """Printable credentials (a PDF page with an ``rtel-print`` QR)."""
    gateway: WeChatGateway = field(repr=False)
    """The WeChat server API, shared by the holder services."""
    accounts: AccountService = field(repr=False)
    """WeChat sign-in, holder sessions and real-name binding."""
    enterprises: EnterpriseService = field(repr=False)
    """Operators, their legal representatives and agents; who a session acts for."""
    claims: ClaimService = field(repr=False)
    """Claims of licences and the authority's review of claim photos."""
    listing: Listing = field(repr=False)
    """The holder's licences with their claim and activation state."""
    activations: ActivationService = field(repr=False)
    """Activations of claimed licences on devices."""
    subscriptions: Subscriptions = field(repr=False)
    """The subscribe messages each account accepted and may still receive."""
    notifier: NotifyWorker = field(repr=False)
    """Holder notifications from the outbox and coming expiries (``wallet notify run``)."""
    figures: Figures = field(repr=False)
    """The four operating rates per county, city and province."""
    parties: Parties = field(repr=False)
    """Relying parties: registration and their signed requests."""
    sharing: Sharing = field(repr=False)
    """Grants, share codes, annotated copies and the access log."""
    aggregator: Aggregator = field(repr=False)
    """Pushes the outbox to the ministry (run by ``wallet aggregate run`` and ``serve``)."""
    console: ConsoleUsers = field(repr=False)
    """Authority users of the web console and their sessions."""
    licence_desk: LicenceDesk = field(repr=False)
    """The console's licence pages (faces masked per role, seals checked, histories)."""

    async def readiness(self) -> dict[str, str]:
        """``{"database": "ok"|reason, "cache": "ok"|reason}``."""
        report: dict[str, str] = {}
        probes = (("database", ping_database), ("cache", lambda: ping_cache(self.cache)))
        for name, probe in probes:
            try:
                async with asyncio.timeout(2.0):
                    await probe()
                report[name] = "ok"
            except Exception as exc:  # a probe failing for any reason means not ready
                report[name] = str(getattr(exc, "detail", type(exc).__name__))
        return report


def _build(settings: Settings, clock: Clock, cache: Redis, master_key: bytes) -> Runtime:
    """Every service of the process, each built once, lower layers first."""
    sm2 = sm2_backend(settings.sm2_backend)
    vault = Vault.from_master_key(master_key, settings.vault_key_id)
    keys = KeyStore(master_key, sm2, clock, KeyRepository())
    licences, holders = LicenceRepository(), HolderRepository()
    accounts, agents = AccountRepository(), EnterpriseRepository()
    claims, activations = ClaimRepository(), ActivationRepository()

    registry = Registry(vault, keys, sm2, cache, clock, licences, holders)
    officers = Officers(OfficerRepository(), vault, cache, clock, settings.officer_session_ttl)
    verifier = Verifier(
        trust_list=TrustCache(keys, clock, sm2),
        probe=CacheProbe(cache),
        log=VerificationLog(
            VerificationRepository(), clock, VerificationSpool(settings.data_dir / "spool")
        ),
        records=VerificationRepository(),
        licences=licences,
        activations=activations,
        claims=claims,
        registry=registry,
        cache=cache,
        clock=clock,
        vault=vault,
        grants=SharedGrants(SharingRepository(), clock),
        scans_per_minute=settings.scan_rate_limit,
        lookups_per_hour=settings.lookup_rate_limit,
    )
    publication = Publication(keys, licences, clock, sm2)
    presenter = Presenter(
        keys=keys,
        sm2=sm2,
        clock=clock,
        licences=licences,
        activations=activations,
        claims=claims,
        qr_lifetime=settings.qr_lifetime,
        credential_lifetime=settings.offline_credential_lifetime,
    )

    gateway = WeChatGateway(
        app_id=settings.wechat_app_id,
        app_secret=settings.wechat_app_secret,
        api_base=settings.wechat_api_base,
        cache=cache,
    )
    transport = TransportKey.from_master_key(master_key, sm2)
    account_service = AccountService(
        accounts=accounts,
        holders=holders,
        activations=activations,
        vault=vault,
        clock=clock,
        sessions=SessionStore(cache, vault, settings.session_ttl),
        gateway=gateway,
        identity=identity_provider(
            settings.identity_provider,
            vault=vault,
            cache=cache,
            gateway=gateway,
            holders=holders,
        ),
        strong=WeChatFaceProvider(gateway, cache, vault),
        transport=transport,
        failures=FailureLimit(cache, "rtel:identity-failures", IDENTITY_FAILURES, IDENTITY_WINDOW),
        face_starts=FailureLimit(cache, "rtel:face-starts", FACE_STARTS, IDENTITY_WINDOW),
    )
    faces = LicenceFaces(licences, vault)
    enterprise_service = EnterpriseService(
        repository=agents,
        holders=holders,
        accounts=accounts,
        activations=activations,
        vault=vault,
        clock=clock,
        transport=transport,
        legal=PermitPersonInCharge(licences, faces, vault, clock),
    )
    printables = Printables(
        keys=keys,
        sm2=sm2,
        clock=clock,
        licences=licences,
        claims=claims,
        enterprises=enterprise_service,
        faces=faces,
        lifetime_days=settings.print_lifetime_days,
    )
    templates = NoticeTemplates(
        status=settings.wechat_status_template_id,
        version=settings.wechat_version_template_id,
        expiry=settings.wechat_expiry_template_id,
        fields=template_fields(settings.wechat_notice_template_fields),
    )
    subscriptions = Subscriptions(
        SubscriptionRepository(),
        clock,
        [
            settings.wechat_claim_template_id,
            settings.wechat_access_template_id,
            *templates.all(),
        ],
    )
    notifier = ClaimNotifier(
        gateway,
        vault,
        settings.wechat_claim_template_id,
        subscriptions,
        template_fields(settings.wechat_claim_template_fields),
    )
    claim_service = ClaimService(
        repository=claims,
        licences=licences,
        accounts=accounts,
        faces=faces,
        enterprises=enterprise_service,
        vault=vault,
        clock=clock,
        notifier=notifier,
    )
    listing = Listing(
        repository=ListingRepository(),
        claims=claims,
        activations=activations,
        holders=holders,
        faces=faces,
        enterprises=enterprise_service,
        clock=clock,
    )
    activation_service = ActivationService(
        repository=activations,
        claims=claims,
        licences=licences,
        enterprises=enterprise_service,
        vault=vault,
        clock=clock,
        mint_credential=presenter.offline_credential,
        notifier=notifier,
    )
    aggregator = Aggregator(
        AggregationRepository(),
        keys,
        MinistryClient(settings.ministry_url, settings.aggregation_timeout),
        clock,
        batch_size=settings.aggregation_batch_size,
        # A lease outlasts a push that runs into its timeout, with room to acknowledge.
        lease=3 * settings.aggregation_timeout + 30,
    )
    notify = NotifyWorker(
        Notifier(
            repository=NotificationRepository(),
            reader=OutboxReader(),
            subscriptions=subscriptions,
            templates=templates,
            clock=clock,
        ),
        gateway,
        vault,
    )
    sharing_repository = SharingRepository()
    sharing = Sharing(
        repository=sharing_repository,
        licences=licences,
        claims=claims,
        faces=faces,
        enterprises=enterprise_service,
        keys=keys,
        sm2=sm2,
        clock=clock,
        cache=cache,
        code_key=derive_key(master_key, "share-code", 32),
        notifier=AccessNotifier(
            subscriptions=subscriptions,
            accounts=accounts,
            gateway=gateway,
            vault=vault,
            template_id=settings.wechat_access_template_id,
            fields=templates.fields,
        ),
    )
    return Runtime(
        settings=settings,
        clock=clock,
        cache=cache,
        sm2=sm2,
        vault=vault,
        keys=keys,
        master_key=master_key,
        registry=registry,
        officers=officers,
        verifier=verifier,
        publication=publication,
        presenter=presenter,
        printables=printables,
        gateway=gateway,
        accounts=account_service,
        enterprises=enterprise_service,
        claims=claim_service,
        listing=listing,
        activations=activation_service,
        subscriptions=subscriptions,
        notifier=notify,
        figures=Figures(FiguresRepository(), clock),
        parties=Parties(sharing_repository, vault, sm2, clock),
        sharing=sharing,
        aggregator=aggregator,
        console=ConsoleUsers(ConsoleRepository(), vault, cache, clock),
        licence_desk=LicenceDesk(registry, licences, keys, verifier, vault, sm2),
    )


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Open the database, cache and keys for this process, build every service; close on exit."""
    master_key = load_master_key(settings)
    await open_database(settings)
    cache = open_cache(settings)
    runtime: Runtime | None = None
    try:
        runtime = _build(settings, clock or SystemClock(), cache, master_key)
        yield runtime
    finally:
        if runtime is not None:
            runtime.gateway.close()
            await runtime.aggregator.ministry.aclose()
        await cache.aclose()
        await close_database()
