"""Sharing errors, each with its problem ``type`` code."""

from __future__ import annotations

from wallet.errors import Conflict, Forbidden, NotFound

__all__ = [
    "GrantNotFound",
    "GrantNotRevocable",
    "NoLiveGrant",
    "PartyExists",
    "PartyNotFound",
]


class NoLiveGrant(NotFound):
    """One answer for every redemption that finds no live grant or code.

    The detail never varies: whether the licence or grant exists, belongs to
    another party, expired, was revoked or used up, the answer is the same.
    """

    type_code = "no_live_grant"
    title = "No live grant"

    def __init__(self) -> None:
        super().__init__("no live grant for this request")


class GrantNotFound(NotFound):
    type_code = "grant_not_found"
    title = "No such grant among yours"


class GrantNotRevocable(Forbidden):
    type_code = "grant_not_revocable"
    title = "This grant cannot be revoked by its holder"


class PartyNotFound(NotFound):
    type_code = "party_not_found"
    title = "No such relying party"


class PartyExists(Conflict):
    type_code = "party_exists"
    title = "A relying party with this USCC is registered"
