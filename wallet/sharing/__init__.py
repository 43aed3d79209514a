"""Holder-authorised sharing: relying parties, grants, share codes, annotated copies.

:class:`~wallet.sharing.parties.Parties` registers and authenticates relying
parties; :class:`~wallet.sharing.service.Sharing` records grants, makes and
redeems share codes, issues annotated copies (加注件, annotated copy) and
keeps the access log.
"""

from wallet.sharing.codes import parse_code
from wallet.sharing.copies import COPY_TYPE, mint_copy
from wallet.sharing.errors import NoLiveGrant
from wallet.sharing.parties import Parties
from wallet.sharing.purposes import PURPOSES
from wallet.sharing.service import IssuedCopy, Sharing, SharingLimits

__all__ = [
    "COPY_TYPE",
    "PURPOSES",
    "IssuedCopy",
    "NoLiveGrant",
    "Parties",
    "Sharing",
    "SharingLimits",
    "mint_copy",
    "parse_code",
]
