"""Errors of accounts and real-name binding (each a :class:`~wallet.errors.WalletError`).

(Binding not yet done is :class:`~wallet.holders.errors.IdentityNotBound`,
shared by every layer of the holder side.)

Tree::

    AccountAlreadyBound (409 account_already_bound)     this account holds another identity
    IdentityBoundElsewhere (409 identity_bound_elsewhere) use the rebind flow
    IdentityNotBoundElsewhere (409 identity_not_bound_elsewhere) nothing to rebind
    IdentityMismatch (422 identity_mismatch)           the provider does not confirm it
    FaceVerificationRequired (422 face_verification_required)
    FaceVerificationDisabled (409 face_verification_disabled)
"""

from __future__ import annotations

from wallet.errors import Conflict, ValidationFailed

__all__ = [
    "AccountAlreadyBound",
    "FaceVerificationDisabled",
    "FaceVerificationRequired",
    "IdentityBoundElsewhere",
    "IdentityMismatch",
    "IdentityNotBoundElsewhere",
]


class AccountAlreadyBound(Conflict):
    type_code = "account_already_bound"
    title = "This account is already bound to another identity"


class IdentityBoundElsewhere(Conflict):
    type_code = "identity_bound_elsewhere"
    title = "This identity is bound to another WeChat account"


class IdentityNotBoundElsewhere(Conflict):
    type_code = "identity_not_bound_elsewhere"
    title = "This identity is not bound to another account: bind it directly"


class IdentityMismatch(ValidationFailed):
    type_code = "identity_mismatch"
    title = "The identity could not be confirmed"


class FaceVerificationRequired(ValidationFailed):
    type_code = "face_verification_required"
    title = "Complete face verification first and send its verify_id"


class FaceVerificationDisabled(Conflict):
    type_code = "face_verification_disabled"
    title = "This deployment confirms identities without face verification"
