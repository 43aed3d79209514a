"""Reading the audit chain in tests the way ``wallet audit verify`` does."""

from wallet.audit.service import ChainReport, verify_chain
from wallet.uow import read_only


async def verify_audit() -> ChainReport:
    """The chain's report, over a read-only unit of work."""
    async with read_only() as uow:
        return await verify_chain(uow)
