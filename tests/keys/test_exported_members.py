import types

import wallet.keys


def test_public_surface_is_listed():
    exported = set(wallet.keys.__all__)
    public = {
        name
        for name in dir(wallet.keys)
        if not name.startswith("_") and not isinstance(getattr(wallet.keys, name), types.ModuleType)
    }
    assert exported == public
    assert exported == {
        "ActiveKey",
        "InvalidTrustList",
        "KeyStatus",
        "KeyStore",
        "KeyUse",
        "SigningKey",
        "TrustList",
        "TrustedKey",
        "build_trust_list",
        "seal_province",
        "verify_trust_list",
    }
